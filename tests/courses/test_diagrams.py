"""Lesson diagrams: served from settings.COURSES_DIR at /course-assets/<course>/<module>/images/<name>, as
images that can run nothing, with strict path validation; lessons show them as <img>."""

import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from labapp.courses.loader import load_courses

FIXTURES = Path(__file__).parent / "fixtures"
ASSET = "/course-assets/demo/basics/images/flow.svg"

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(tmp_path, settings) -> Path:
    dest = tmp_path / "courses"
    shutil.copytree(FIXTURES, dest)
    (tmp_path / "secret.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    settings.COURSES_DIR = dest
    assert load_courses(dest).ok
    return dest


@pytest.fixture
def client():
    client = Client()
    client.force_login(User.objects.create_user("dana", "d@example.org", "a long passphrase 42"))
    return client


def test_svg_is_served_as_an_inert_image(root, client):
    response = client.get(ASSET)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"<title>Request flow</title>" in b"".join(response.streaming_content)


def test_png_is_served(root, client):
    (root / "demo/basics/images/pixel.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    response = client.get("/course-assets/demo/basics/images/pixel.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


@pytest.mark.parametrize(
    "url",
    [
        "/course-assets/demo/basics/images/..%2F..%2Fcourse.yaml",
        "/course-assets/demo/basics/images/..%2Fmodule.yaml",
        "/course-assets/demo/basics/images/%2E%2E%2F%2E%2E%2F%2E%2E%2Fsecret.svg",
        "/course-assets/demo/..%2F..%2F/images/flow.svg",
        "/course-assets/../demo/basics/images/flow.svg",
        "/course-assets/demo/basics/images/flow.svg.yaml",
        "/course-assets/demo/basics/images/module.yaml",
        "/course-assets/demo/basics/images/.hidden.svg",
        "/course-assets/demo/basics/images/missing.svg",
        "/course-assets/demo/basics/lessons/01-hello.md",
        "/course-assets/Demo/basics/images/flow.svg",
    ],
)
def test_anything_but_an_image_of_a_module_is_not_found(root, client, url):
    assert client.get(url).status_code == 404


def test_a_symlink_out_of_the_images_folder_is_refused(root, client):
    (root / "demo/basics/images/escape.svg").symlink_to(root.parent / "secret.svg")
    assert client.get("/course-assets/demo/basics/images/escape.svg").status_code == 404


def test_only_get_and_head(root, client):
    assert client.post(ASSET).status_code == 405


def test_the_lesson_shows_the_diagram_as_an_img(root, client):
    page = client.get("/courses/demo/basics/lessons/second/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<img src="{ASSET}" alt="A client sends a request to S3">' in html
    # and the image it points at is served
    assert client.get(ASSET).status_code == 200
