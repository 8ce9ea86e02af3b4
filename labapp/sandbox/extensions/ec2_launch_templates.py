"""EC2 launch templates: a new version made with `--source-version` starts from that version, as on AWS.

On AWS, `create-launch-template-version --source-version N --launch-template-data {...}` copies version N
and overrides only the parameters given ("the new version inherits the same launch parameters, except
for parameters that you explicitly specify"); `$Latest` and `$Default` name versions too, and an unknown
source version is refused. moto 5.2.5 ignores SourceVersion: the new version holds only the given data, so
a version made to change just the instance type has no AMI, and an Auto Scaling group launching from it
starts instances without one. Here the source's parameters are copied under the given ones."""

from __future__ import annotations

import copy
import functools


def apply() -> None:
    from moto.ec2.models.launch_templates import convert_tag_spec
    from moto.ec2.responses.launch_templates import LaunchTemplates

    original = LaunchTemplates.create_launch_template_version
    if getattr(original, "_lab_patched", False):
        return

    @functools.wraps(original)
    def create_launch_template_version(self):
        source = self._get_param("SourceVersion")
        if source in (None, ""):
            return original(self)
        name, template_id = self._get_param("LaunchTemplateName"), self._get_param("LaunchTemplateId")
        template = (self.ec2_backend.get_launch_template(template_id) if template_id
                    else self.ec2_backend.get_launch_template_by_name(name))
        base = copy.deepcopy(template.get_version(source).data)  # VersionNotFound (400) for an unknown version
        result = original(self)
        version = template.latest_version()
        for key, value in base.items():
            version.data.setdefault(key, value)  # in place: the response already holds this dict
        version.instance_tags = convert_tag_spec(version.data.get("TagSpecifications", [])).get("instance", {})
        return result

    create_launch_template_version._lab_patched = True
    LaunchTemplates.create_launch_template_version = create_launch_template_version
