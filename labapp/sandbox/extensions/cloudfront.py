"""CloudFront: keep an origin's origin access control (OAC).

moto 5.2.5 accepts `OriginAccessControlId` and `S3OriginConfig` on a distribution's origins but drops
both, so GetDistributionConfig never shows which OAC an S3 origin uses (and OAI, the legacy
alternative, is not implemented at all). This module keeps them, and checks them as CloudFront does:

- an origin's `OriginAccessControlId` must name an OAC of the account (`NoSuchOriginAccessControl`);
- an origin may not use both an OAC and an origin access identity (`IllegalOriginAccessConfiguration`);
- an OAC still used by a distribution cannot be deleted (`OriginAccessControlInUse`).
"""

from __future__ import annotations

_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    from moto.cloudfront import models
    from moto.cloudfront.exceptions import CloudFrontException

    original_init = models.Origin.__init__

    def origin_init(self, origin: dict) -> None:
        original_init(self, origin)
        self.origin_access_control_id = origin.get("OriginAccessControlId") or ""
        if "S3OriginConfig" in origin:
            self.s3_origin_config = {"OriginAccessIdentity": origin["S3OriginConfig"].get("OriginAccessIdentity") or ""}

    models.Origin.__init__ = origin_init

    def validate(backend, config: dict) -> None:
        items = ((config.get("Origins") or {}).get("Items")) or []
        if isinstance(items, dict):  # one origin, as the XML parser may give it
            items = [items]
        for origin in items:
            oac = origin.get("OriginAccessControlId")
            if not oac:
                continue
            if oac not in backend.origin_access_controls:
                raise CloudFrontException("NoSuchOriginAccessControl",
                                          f"The origin access control {oac} does not exist.")
            oai = (origin.get("S3OriginConfig") or {}).get("OriginAccessIdentity")
            if oai:
                raise CloudFrontException(
                    "IllegalOriginAccessConfiguration",
                    "An origin cannot use both an origin access control and an origin access identity.",
                )

    original_create = models.CloudFrontBackend.create_distribution_with_tags

    def create_distribution_with_tags(self, distribution_config, tags):
        validate(self, distribution_config)
        return original_create(self, distribution_config, tags)

    models.CloudFrontBackend.create_distribution_with_tags = create_distribution_with_tags

    original_update = models.CloudFrontBackend.update_distribution

    def update_distribution(self, dist_config, _id, if_match):
        if dist_config:
            validate(self, dist_config)
        return original_update(self, dist_config, _id, if_match)

    models.CloudFrontBackend.update_distribution = update_distribution

    original_delete = models.CloudFrontBackend.delete_origin_access_control

    def delete_origin_access_control(self, control_id: str) -> None:
        for dist in self.distributions.values():
            for origin in (dist.distribution_config.Origins or {}).get("Items") or []:
                if getattr(origin, "origin_access_control_id", "") == control_id:
                    raise CloudFrontException(
                        "OriginAccessControlInUse",
                        f"The origin access control {control_id} is in use by distribution {dist.distribution_id}.",
                    )
        return original_delete(self, control_id)

    models.CloudFrontBackend.delete_origin_access_control = delete_origin_access_control
    _applied = True
