"""EFS: UpdateFileSystem changes the throughput mode (and provisioned throughput) of a file system, as on AWS.

moto 5.2.5 has no UpdateFileSystem (the call answered 500), yet switching an existing file system to the
elastic or provisioned throughput mode is the documented fix when the mode chosen at creation was wrong.
Performance mode and encryption stay creation-time choices, as on AWS.

CreateMountTarget on a One Zone file system (created with --availability-zone-name) is refused outside the
file system's zone with AWS's AvailabilityZonesMismatch: moto accepted a mount target in every zone, so a
One Zone file system looked as available across zones as a Regional one."""

from __future__ import annotations

import json

THROUGHPUT_MODES = ("bursting", "provisioned", "elastic")


def apply() -> None:
    from moto.efs.exceptions import BadRequest, EFSError, FileSystemNotFound
    from moto.efs.models import EFSBackend
    from moto.efs.responses import EFSResponse

    if hasattr(EFSResponse, "update_file_system"):
        return

    class AvailabilityZonesMismatch(EFSError):
        code = 400

        def __init__(self, msg: str):
            super().__init__("AvailabilityZonesMismatch", msg)

    original_create_mount_target = EFSBackend.create_mount_target

    def create_mount_target(self, file_system_id, subnet_id, *args, **kwargs):
        fs = self.file_systems_by_id.get(file_system_id)
        zone = getattr(fs, "availability_zone_name", None)
        if zone:
            try:
                subnet_zone = self.ec2_backend.get_subnet(subnet_id).availability_zone
            except Exception:  # noqa: BLE001 - an unknown subnet gets moto's own SubnetNotFound below
                subnet_zone = zone
            if subnet_zone != zone:
                raise AvailabilityZonesMismatch(
                    f"File system {file_system_id} uses One Zone storage in {zone}: its only mount target must be "
                    f"in a subnet of {zone}, and subnet {subnet_id} is in {subnet_zone}.")
        return original_create_mount_target(self, file_system_id, subnet_id, *args, **kwargs)

    EFSBackend.create_mount_target = create_mount_target

    def update_file_system(self):
        fs_id = self._get_param("FileSystemId")
        fs = self.efs_backend.file_systems_by_id.get(fs_id)
        if fs is None:
            raise FileSystemNotFound(fs_id)
        mode = self._get_param("ThroughputMode")
        mibps = self._get_param("ProvisionedThroughputInMibps")
        if mode is not None and mode not in THROUGHPUT_MODES:
            raise BadRequest(f"Invalid ThroughputMode {mode}: use one of {', '.join(THROUGHPUT_MODES)}.")
        new_mode = mode or fs.throughput_mode
        if new_mode == "provisioned" and mibps is None and not fs.provisioned_throughput_in_mibps:
            raise BadRequest("ProvisionedThroughputInMibps is required when ThroughputMode is provisioned.")
        if mibps is not None and new_mode != "provisioned":
            raise BadRequest("ProvisionedThroughputInMibps can be set only with the provisioned throughput mode.")
        fs.throughput_mode = new_mode
        if new_mode == "provisioned":
            fs.provisioned_throughput_in_mibps = float(mibps) if mibps is not None else fs.provisioned_throughput_in_mibps
        else:
            fs.provisioned_throughput_in_mibps = None
        return json.dumps(fs.info_json()), {"status": 202, "Content-Type": "application/json"}

    EFSResponse.update_file_system = update_file_system
