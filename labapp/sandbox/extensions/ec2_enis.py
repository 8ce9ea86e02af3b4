"""EC2 network interfaces: AttachNetworkInterface refuses what AWS refuses.

moto 5.2.5 attaches anything anywhere: an interface already attached to another instance silently moves
(the first instance keeps a stale reference to it), an interface from another Availability Zone attaches,
and a device index already in use is overwritten. AWS refuses all three, which is the lesson of the ENI
failover lab: you must detach before you can move an interface, and only within its AZ.
"""

from __future__ import annotations

import functools


def apply() -> None:
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.models.elastic_network_interfaces import NetworkInterfaceBackend

    original = NetworkInterfaceBackend.attach_network_interface
    if getattr(original, "_lab_patched", False):
        return

    @functools.wraps(original)
    def attach_network_interface(self, eni_id, instance_id, device_index):
        eni = self.get_network_interface(eni_id)
        instance = self.get_instance(instance_id)
        if eni.instance is not None:
            raise EC2ClientError("InvalidNetworkInterface.InUse", f"Interface: [{eni.id}] in use.")
        zone = getattr(instance.placement, "zone", None)
        if eni.subnet is not None and zone and eni.subnet.availability_zone != zone:
            raise EC2ClientError(
                "InvalidParameterCombination",
                "You may not attach a network interface to an instance if they are not in the same "
                "availability zone")
        if int(device_index) in instance.nics:
            raise EC2ClientError(
                "InvalidParameterValue",
                f"Instance '{instance.id}' already has an interface attached at device index '{device_index}'.")
        return original(self, eni_id, instance_id, device_index)

    attach_network_interface._lab_patched = True
    attach_network_interface._lab_original = original
    NetworkInterfaceBackend.attach_network_interface = attach_network_interface
