"""Every module of the real course counts towards one of the four DVA-C02 exam domains."""

from pathlib import Path

import yaml

from labapp.quizzes import domains

COURSE = Path(__file__).resolve().parents[2] / "courses" / "aws-developer" / "course.yaml"


def test_every_module_of_the_course_has_an_exam_domain():
    modules = yaml.safe_load(COURSE.read_text())["modules"]
    assert modules
    missing = [slug for slug in modules if slug not in domains.MODULE_DOMAINS]
    assert not missing, f"add these modules to MODULE_DOMAINS in labapp/quizzes/domains.py: {missing}"
    # ...and every domain of the exam has questions to draw from.
    assert {domains.MODULE_DOMAINS[slug] for slug in modules} == set(domains.DOMAINS)
    assert [d.title for d in domains.DOMAINS] == [
        "Development with AWS Services", "Security", "Deployment", "Troubleshooting and Optimization"]
