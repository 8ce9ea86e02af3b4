"""EC2 Elastic IPs: associating an address behaves as on AWS.

moto 5.2.5 differs in two ways a learner (and a grader) can see:
- An address associated through a network interface (`associate-address --network-interface-id`) shows
  no `InstanceId`, although the interface is attached to an instance; AWS shows that instance.
- Associating a second address with an instance (or its interface) leaves the first one associated too.
  AWS documents that "the existing address is disassociated from the instance, but remains allocated to
  your account": the first address becomes idle (and billed). moto would hide an idle address from
  learners and graders alike.
"""

from __future__ import annotations

import functools


def _detach(eip) -> None:
    """What moto's disassociate_address does, without looking the address up again."""
    if eip.eni is not None:
        eip.eni.public_ip = None
        eip.eni = None
    eip.instance = None
    eip.association_id = None


def apply() -> None:
    from moto.ec2.models.elastic_ip_addresses import ElasticAddressBackend

    original = ElasticAddressBackend.associate_address
    if getattr(original, "_lab_patched", False):
        return

    @functools.wraps(original)
    def associate_address(self, *args, **kwargs):
        eip = original(self, *args, **kwargs)
        if eip.instance is None and eip.eni is not None and getattr(eip.eni, "instance", None) is not None:
            eip.instance = eip.eni.instance
        if eip.eni is not None:
            for other in self.addresses:
                if other is not eip and other.eni is eip.eni:
                    _detach(other)
            eip.eni.public_ip = eip.public_ip
        return eip

    associate_address._lab_patched = True
    associate_address._lab_original = original
    ElasticAddressBackend.associate_address = associate_address
