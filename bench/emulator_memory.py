"""Emulator memory per sandbox: RSS before and after N sandboxes each get a typical lab's resources
(an IAM user + group, an S3 bucket with an object, an EC2 security group + instance), then after
resetting them all."""

from __future__ import annotations

import time

from _sandbox_bench import make_sessions, percentiles, setup_database

N = 100


def main():
    from django.conf import settings

    from labapp.sandbox import client
    from tests.stack import SandboxStack

    run_dir, db_env = setup_database()
    with SandboxStack(run_dir / "stack", db_env) as stack:
        settings.LAB_GATEWAY_URL = stack.url
        settings.LAB_EMULATOR_SOCKET = stack.socket_path
        boxes = make_sessions(N, stack.url)
        before = client.emulator_stats()["rss_bytes"]
        per_box_ms = []
        for box in boxes:
            start = time.perf_counter()
            iam = client.client(box.session, "iam", source="setup")
            iam.create_group(GroupName="devs")
            iam.create_user(UserName="dev")
            iam.add_user_to_group(GroupName="devs", UserName="dev")
            s3 = client.client(box.session, "s3", source="setup")
            s3.create_bucket(Bucket=f"site-{box.account_id}")
            s3.put_object(Bucket=f"site-{box.account_id}", Key="index.html", Body=b"<h1>hello</h1>" * 50)
            ec2 = client.client(box.session, "ec2", source="setup")
            group = ec2.create_security_group(GroupName="web", Description="web")["GroupId"]
            ec2.run_instances(ImageId="ami-0d27e0fb3bac4d724", InstanceType="t3.micro", MinCount=1, MaxCount=1,
                              SecurityGroupIds=[group])
            per_box_ms.append((time.perf_counter() - start) * 1000)
        after = client.emulator_stats()
        for box in boxes:
            client.reset_account(box.account_id)
        reset = client.emulator_stats()
        p50, p95 = percentiles(per_box_ms)
        mb = 1024 * 1024
        print(f"N={N} sandboxes (IAM user+group, S3 bucket+object, EC2 SG+instance)")
        print(f"  RSS before: {before / mb:8.1f} MB")
        print(f"  RSS after : {after['rss_bytes'] / mb:8.1f} MB  ({len(after['accounts'])} accounts with state)")
        print(f"  per sandbox: {(after['rss_bytes'] - before) / mb / N:.3f} MB; set-up time p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        print(f"  RSS after resetting all: {reset['rss_bytes'] / mb:8.1f} MB  ({len(reset['accounts'])} accounts with state)")
        print("  (freed memory is reused by new sandboxes but not returned to the OS; see research/moto.md 3.4)")


if __name__ == "__main__":
    main()
