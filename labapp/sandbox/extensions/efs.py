"""EFS: UpdateFileSystem changes the throughput mode (and provisioned throughput) of a file system, as on AWS.

moto 5.2.5 has no UpdateFileSystem (the call answered 500), yet switching an existing file system to the
elastic or provisioned throughput mode is the documented fix when the mode chosen at creation was wrong.
Performance mode and encryption stay creation-time choices, as on AWS."""

from __future__ import annotations

import json

THROUGHPUT_MODES = ("bursting", "provisioned", "elastic")


def apply() -> None:
    from moto.efs.exceptions import BadRequest, FileSystemNotFound
    from moto.efs.responses import EFSResponse

    if hasattr(EFSResponse, "update_file_system"):
        return

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
