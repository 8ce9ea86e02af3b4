"""Loads course content from files (settings.COURSES_DIR) into the database.

Layout (docs/architecture.md, "Course files"):
    <course>/course.yaml                     uuid, slug, title, summary, modules: [module folder, ...]
    <course>/<module>/module.yaml            uuid, title, summary
    <course>/<module>/lessons/NN-<slug>.md   YAML front matter (uuid, title) + Markdown
    <course>/<module>/labs/<slug>.yaml       one lab
    <course>/<module>/questions.yaml         practice questions
    <course>/<module>/images/<name>.svg      diagrams, used from lessons as images/<name>.svg

Every file is validated against its JSON schema (schema/*.json) and by semantic rules (unique uuids,
known check kinds with valid parameters, declared placeholders, known generators, resource listers and
boto3 operations; questions with the right number of correct choices and an existing lesson, #anchor
and lab; every link and image in a lesson resolves). Each problem is a LoadError naming the file and
line; a broken file (or question) is skipped and everything else still loads. A lesson with a broken
link still loads (its link is left as written), but the problem is reported. Relative links to other
lessons and images are rewritten to their routes at load time. Rows are upserted by uuid, so renames keep learners' history, and
nothing is deleted.

    scan(root) -> ScanResult          parse and validate only (no database)
    load_courses(root=None, write=True) -> ScanResult    scan, then upsert what is valid
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

SCHEMA_DIR = Path(__file__).parent / "schema"
LESSON_NAME = re.compile(r"^(\d+)-([a-z0-9][a-z0-9-]*)\.md$")


# --- errors and line-aware YAML -------------------------------------------------------------------


@dataclass
class LoadError:
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


class FileInvalid(Exception):
    """Raised while reading one file; carries that file's errors."""

    def __init__(self, errors: list[LoadError]):
        super().__init__("; ".join(map(str, errors)))
        self.errors = errors


class Source:
    """One parsed YAML document with its node tree, to map a data path to a line number."""

    def __init__(self, display: str, text: str, line_offset: int = 0):
        self.display = display
        self.line_offset = line_offset
        try:
            self.node = yaml.compose(text, Loader=yaml.SafeLoader)
            self.data = yaml.safe_load(text)
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            line = mark.line + 1 + line_offset if mark else None
            problem = " ".join(p for p in (err.context, err.problem) if p)
            raise FileInvalid([LoadError(display, line, f"invalid YAML: {problem}")]) from None
        except yaml.YAMLError as err:
            raise FileInvalid([LoadError(display, None, f"invalid YAML: {err}")]) from None
        self.duplicates = list(self._duplicate_keys(self.node))

    def _duplicate_keys(self, node):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key, value in node.value:
                if key.value in seen:
                    yield key
                seen.add(key.value)
                yield from self._duplicate_keys(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                yield from self._duplicate_keys(item)

    def error(self, path: tuple | list, message: str) -> LoadError:
        return LoadError(self.display, self.line(path), message)

    def node_at(self, path) -> tuple[Any, Any]:
        """(value node, key node or None) of the deepest existing prefix of `path`."""
        node, key_node = self.node, None
        for part in path:
            if isinstance(node, yaml.MappingNode):
                for k, v in reversed(node.value):  # last one wins, like the loaded data
                    if k.value == str(part):
                        node, key_node = v, k
                        break
                else:
                    break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node, key_node = node.value[part], None
            else:
                break
        return node, key_node

    def line(self, path) -> int | None:
        if self.node is None:
            return 1 + self.line_offset
        node, key_node = self.node_at(path)
        mark = (key_node or node).start_mark
        return mark.line + 1 + self.line_offset

    def line_in_text(self, path, needle: str) -> int | None:
        """Line of `needle` inside a literal block scalar (|) at `path`, else the value's line."""
        node, key_node = self.node_at(path)
        if isinstance(node, yaml.ScalarNode) and node.style == "|":
            for i, text_line in enumerate(str(node.value).splitlines()):
                if needle in text_line:
                    return node.start_mark.line + 2 + i + self.line_offset
        return self.line(path)


def display_path(path: Path, root: Path) -> str:
    try:
        return os.path.relpath(path, root.parent)
    except ValueError:
        return str(path)


@cache
def load_schema(name: str) -> dict:
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())


@cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name))


def path_text(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def schema_errors(source: Source, validator_: Draft202012Validator, data, base: tuple = ()) -> list[LoadError]:
    errors = []
    for err in sorted(validator_.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        path = base + tuple(err.absolute_path)
        message = err.message
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set((err.schema or {}).get("properties", {}))
            extra = [k for k in err.instance if k not in allowed]
            if extra:
                path = path + (extra[0],)
                message = f"unknown field {extra[0]!r} (allowed: {', '.join(sorted(allowed))})"
                errors.append(source.error(path, f"{path_text(path)}: {message}"))
                continue
        if err.validator == "oneOf":
            message = f"{err.instance!r:.80} is neither a command string nor a {{run, save}} mapping"
        if len(message) > 300:
            message = message[:300] + "…"
        errors.append(source.error(path, f"{path_text(path)}: {message}"))
    return errors


def read_yaml(path: Path, root: Path, schema_name: str) -> Source:
    display = display_path(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise FileInvalid([LoadError(display, None, f"cannot read: {err}")]) from None
    source = Source(display, text)
    validate_source(source, schema_name)
    return source


def validate_source(source: Source, schema_name: str) -> None:
    errors = [LoadError(source.display, k.start_mark.line + 1 + source.line_offset, f"duplicate key {k.value!r}")
              for k in source.duplicates]
    if not isinstance(source.data, dict):
        errors.append(source.error([], "expected a mapping of fields at the top level"))
        raise FileInvalid(errors)
    errors += schema_errors(source, validator(schema_name), source.data)
    if errors:
        raise FileInvalid(errors)


# --- parsed content -------------------------------------------------------------------------------


@dataclass
class LessonData:
    path: str
    slug: str
    order: int
    uuid: str
    title: str
    body_markdown: str
    body_html: str
    toc: list
    body_line: int = 1  # line of the file where the Markdown body starts
    links: list = field(default_factory=list)  # [(kind, url, line in body)]

    @property
    def stem(self) -> str:
        return f"{self.order:02d}-{self.slug}"


@dataclass
class QuestionData:
    path: str
    line: int | None
    uuid: str
    order: int
    type: str
    answers: int
    prompt_html: str
    choices: list  # [{"id", "html", "correct"}]
    explanation_html: str
    lesson_uuid: str
    lesson_slug: str
    anchor: str
    lab: str | None


@dataclass
class LabData:
    path: str
    slug: str
    order: int
    definition: dict


@dataclass
class ModuleData:
    path: str
    slug: str
    order: int
    uuid: str
    title: str
    summary: str
    lessons: list[LessonData] = field(default_factory=list)
    labs: list[LabData] = field(default_factory=list)
    questions: list[QuestionData] = field(default_factory=list)
    questions_source: Source | None = None
    dir: Path | None = None


@dataclass
class CourseData:
    path: str
    slug: str
    uuid: str
    title: str
    summary: str
    modules: list[ModuleData] = field(default_factory=list)


@dataclass
class ScanResult:
    courses: list[CourseData] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    written: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict:
        return {
            "courses": len(self.courses),
            "modules": sum(len(c.modules) for c in self.courses),
            "lessons": sum(len(m.lessons) for c in self.courses for m in c.modules),
            "labs": sum(len(m.labs) for c in self.courses for m in c.modules),
            "questions": sum(len(m.questions) for c in self.courses for m in c.modules),
        }


class Scanner:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.result = ScanResult()
        self.uuids: dict[str, str] = {}  # uuid -> "file:line" of its first use

    def claim_uuid(self, source: Source, uuid_value: str) -> None:
        key = uuid_value.lower()
        if key in self.uuids:
            raise FileInvalid([source.error(["uuid"], f"uuid {uuid_value} is already used by {self.uuids[key]}")])
        self.uuids[key] = f"{source.display}:{source.line(['uuid'])}"

    def scan(self) -> ScanResult:
        if not self.root.is_dir():
            self.result.errors.append(LoadError(str(self.root), None, "courses folder does not exist"))
            return self.result
        for course_dir in sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            course_file = course_dir / "course.yaml"
            if not course_file.exists():
                self.result.errors.append(LoadError(display_path(course_dir, self.root), None, "no course.yaml"))
                continue
            try:
                self.result.courses.append(self.scan_course(course_dir, course_file))
            except FileInvalid as err:
                self.result.errors.extend(err.errors)
        return self.result

    def scan_course(self, course_dir: Path, course_file: Path) -> CourseData:
        source = read_yaml(course_file, self.root, "course")
        data = source.data
        if data["slug"] != course_dir.name:
            raise FileInvalid([source.error(["slug"], f"slug {data['slug']!r} must equal the folder name "
                                                      f"{course_dir.name!r}")])
        self.claim_uuid(source, data["uuid"])
        course = CourseData(source.display, data["slug"], data["uuid"], data["title"], data.get("summary", ""))
        listed = data["modules"]
        for order, slug in enumerate(listed):
            module_dir = course_dir / slug
            if not (module_dir / "module.yaml").exists():
                self.result.errors.append(source.error(["modules", order], f"module {slug!r} has no {slug}/module.yaml"))
                continue
            try:
                course.modules.append(self.scan_module(module_dir, slug, order))
            except FileInvalid as err:
                self.result.errors.extend(err.errors)
        for extra in sorted(p.name for p in course_dir.iterdir() if p.is_dir() and (p / "module.yaml").exists()):
            if extra not in listed:
                self.result.errors.append(source.error(["modules"], f"module folder {extra!r} is not listed in modules"))
        # Links, lab references and questions are checked once the whole course is known.
        CourseLinker(self, course, course_dir).run()
        return course

    def scan_module(self, module_dir: Path, slug: str, order: int) -> ModuleData:
        source = read_yaml(module_dir / "module.yaml", self.root, "module")
        data = source.data
        self.claim_uuid(source, data["uuid"])
        module = ModuleData(source.display, slug, order, data["uuid"], data["title"], data.get("summary", ""),
                            dir=module_dir)
        lessons_dir = module_dir / "lessons"
        if lessons_dir.is_dir():
            for path in sorted(lessons_dir.glob("*.md")):
                try:
                    module.lessons.append(self.scan_lesson(path))
                except FileInvalid as err:
                    self.result.errors.extend(err.errors)
            module.lessons.sort(key=lambda lesson: (lesson.order, lesson.slug))
        labs_dir = module_dir / "labs"
        if labs_dir.is_dir():
            for index, path in enumerate(sorted(labs_dir.glob("*.yaml")) + sorted(labs_dir.glob("*.yml"))):
                try:
                    module.labs.append(self.scan_lab(path, index))
                except FileInvalid as err:
                    self.result.errors.extend(err.errors)
        questions_file = module_dir / "questions.yaml"
        if questions_file.exists():
            try:
                module.questions_source = read_yaml(questions_file, self.root, "questions")
            except FileInvalid as err:
                self.result.errors.extend(err.errors)
        return module

    def scan_lesson(self, path: Path) -> LessonData:
        from .markdown import render_markdown

        display = display_path(path, self.root)
        match = LESSON_NAME.match(path.name)
        if not match:
            raise FileInvalid([LoadError(display, None, "lesson file names look like NN-some-slug.md")])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise FileInvalid([LoadError(display, None, f"cannot read: {err}")]) from None
        lines = text.splitlines(keepends=True)
        if not lines or lines[0].strip() != "---":
            raise FileInvalid([LoadError(display, 1, "a lesson starts with YAML front matter between --- lines")])
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is None:
            raise FileInvalid([LoadError(display, 1, "the front matter has no closing --- line")])
        source = Source(display, "".join(lines[1:end]), line_offset=1)
        validate_source(source, "lesson")
        self.claim_uuid(source, source.data["uuid"])
        body = "".join(lines[end + 1:])
        links: list = []
        html, toc = render_markdown(body, lambda kind, url, line: links.append((kind, url, line)))
        return LessonData(display, match.group(2), int(match.group(1)), source.data["uuid"],
                          source.data["title"], body, html, toc, body_line=end + 2, links=links)

    def scan_lab(self, path: Path, order: int) -> LabData:
        source = read_yaml(path, self.root, "lab")
        errors = lab_semantic_errors(source, path.stem)
        if errors:
            raise FileInvalid(errors)
        self.claim_uuid(source, source.data["uuid"])
        return LabData(source.display, source.data["slug"], order, source.data)


# --- links, lab references and questions (checked once a whole course is scanned) ----------------

EXTERNAL_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)
ASSET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.(?:svg|png)$")
LESSON_STEM = re.compile(r"^\d+-[a-z0-9][a-z0-9-]*$")
PARAGRAPH = re.compile(r"^<p>(.*)</p>\s*$", re.S)


def lesson_url(course: str, module: str, lesson_slug: str) -> str:
    from django.urls import reverse

    return reverse("lesson", args=[course, module, lesson_slug])


def asset_url(course: str, module: str, name: str) -> str:
    from django.urls import reverse

    return reverse("course-asset", args=[course, module, name])


def _listing(items, limit: int = 12) -> str:
    items = list(items)
    text = ", ".join(items[:limit])
    return text + (", …" if len(items) > limit else "") if items else "none"


class CourseLinker:
    """Checks every link and image of a course's lessons and rewrites the relative ones to their routes,
    then validates and renders each module's questions (lesson, #anchor and lab must exist)."""

    def __init__(self, scanner: Scanner, course: CourseData, course_dir: Path):
        self.scanner, self.course, self.course_dir = scanner, course, course_dir
        self.modules = {m.slug: m for m in course.modules}
        self.lessons: dict[tuple[str, str], LessonData] = {}
        for module in course.modules:
            for lesson in module.lessons:
                self.lessons[(module.slug, Path(lesson.path).stem)] = lesson
                self.lessons.setdefault((module.slug, lesson.slug), lesson)
        # Labs are referred to by slug; a lab file with its own problems is reported on its own.
        self.labs = {lab.slug for m in course.modules for lab in m.labs}
        self.labs |= {p.stem for p in course_dir.glob("*/labs/*.yaml")} | {p.stem for p in course_dir.glob("*/labs/*.yml")}
        self.lesson_module: dict[int, str] = {id(lesson): m.slug for m in course.modules for lesson in m.lessons}

    def run(self) -> None:
        from .markdown import render_markdown

        for module in self.course.modules:
            for lesson in module.lessons:
                problems: list[LoadError] = []

                def resolve(kind, url, line, module=module, lesson=lesson, problems=problems):
                    new, problem = self.resolve(module, kind, url, lesson)
                    if problem:
                        problems.append(LoadError(lesson.path, lesson.body_line + line - 1 if line else None, problem))
                    return new

                lesson.body_html, _ = render_markdown(lesson.body_markdown, resolve)
                self.scanner.result.errors.extend(problems)
            if module.questions_source is not None:
                self.load_questions(module)

    # -- links

    def resolve(self, module: ModuleData, kind: str, url: str, lesson: LessonData | None):
        """(new url or None to keep it, problem or None)."""
        from urllib.parse import unquote

        what = "image" if kind == "image" else "link"
        if EXTERNAL_URL.match(url):
            if kind == "image":
                return None, f"image {url!r}: images must be files of the course (images/<name>.svg), not remote"
            return None, None
        raw_path, _, fragment = url.partition("#")
        path = unquote(raw_path)
        if not path:
            if kind == "image":
                return None, f"image {url!r} names no file"
            if lesson is None:
                return None, f"link {url!r}: name the lesson too (e.g. 01-intro#{fragment})"
            return None, self.anchor_problem(url, lesson, fragment)
        if path.startswith("/"):
            return self.resolve_site_path(url, path, fragment, kind)
        for base in (f"{module.slug}/lessons", module.slug):
            target = posixpath.normpath(posixpath.join(base, path))
            if target == ".." or target.startswith("../"):
                continue
            found = self.match(target.split("/"), url, fragment, kind)
            if found is not None:
                return found
        if kind == "image":
            return None, f"image {url!r}: images live in <module>/images/ and are .svg or .png files"
        return None, f"{what} {url!r} does not resolve to a lesson, lab or image of this course"

    def match(self, parts: list[str], url: str, fragment: str, kind: str):
        module_slug = parts[0]
        if module_slug not in self.modules:
            return None
        if len(parts) == 3 and parts[1] == "images":
            name = parts[2]
            if not ASSET_NAME.match(name):
                return None, f"image {url!r}: only .svg and .png files with plain names are served"
            if not (self.course_dir / module_slug / "images" / name).is_file():
                return None, f"image {url!r}: {self.course.slug}/{module_slug}/images/{name} does not exist"
            return asset_url(self.course.slug, module_slug, name), None
        if kind == "image":
            return None
        if len(parts) == 3 and parts[1] == "labs":
            slug = re.sub(r"\.ya?ml$", "", parts[2])
            if slug not in self.labs:
                return None, f"link {url!r}: there is no lab {slug!r} in this course"
            from django.urls import reverse

            return reverse("lab", args=[slug]), None
        if (len(parts) == 3 and parts[1] == "lessons") or len(parts) == 2:
            key = re.sub(r"\.md$", "", parts[-1])
            target = self.lessons.get((module_slug, key))
            if target is None:
                if len(parts) == 3 or LESSON_STEM.match(key):
                    known = sorted(Path(le.path).stem for le in self.modules[module_slug].lessons)
                    return None, (f"link {url!r}: module {module_slug} has no lesson {key!r} "
                                  f"(lessons: {_listing(known)})")
                return None
            if fragment and (problem := self.anchor_problem(url, target, fragment)):
                return None, problem
            href = lesson_url(self.course.slug, module_slug, target.slug)
            return href + (f"#{fragment}" if fragment else ""), None
        if len(parts) == 1:
            from django.urls import reverse

            return reverse("module", args=[self.course.slug, module_slug]), None
        return None

    def resolve_site_path(self, url: str, path: str, fragment: str, kind: str):
        if kind == "image":
            if m := re.fullmatch(r"/course-assets/([^/]+)/([^/]+)/images/([^/]+)", path):
                if m.group(1) == self.course.slug and (self.course_dir / m.group(2) / "images" / m.group(3)).is_file():
                    return None, None
            return None, f"image {url!r}: use a relative images/<name>.svg path"
        if m := re.fullmatch(r"/labs/([a-z0-9-]+)/?", path):
            if m.group(1) not in self.labs:
                return None, f"link {url!r}: there is no lab {m.group(1)!r} in this course"
            return None, None
        if m := re.fullmatch(r"/courses/([a-z0-9-]+)/([a-z0-9-]+)/lessons/([a-z0-9-]+)/?", path):
            if m.group(1) == self.course.slug:
                target = self.lessons.get((m.group(2), m.group(3)))
                if target is None:
                    return None, f"link {url!r}: there is no lesson {m.group(3)!r} in module {m.group(2)!r}"
                if fragment:
                    return None, self.anchor_problem(url, target, fragment)
            return None, None
        if m := re.fullmatch(r"/courses/([a-z0-9-]+)/([a-z0-9-]+)/?", path):
            if m.group(1) == self.course.slug and m.group(2) not in self.modules:
                return None, f"link {url!r}: there is no module {m.group(2)!r}"
        return None, None

    @staticmethod
    def anchor_problem(url: str, lesson: LessonData, fragment: str) -> str | None:
        ids = [entry["id"] for entry in lesson.toc]
        if fragment in ids:
            return None
        return f"link {url!r}: lesson {Path(lesson.path).stem} has no heading #{fragment} (headings: {_listing(ids)})"

    # -- questions

    def load_questions(self, module: ModuleData) -> None:
        from .markdown import render_markdown

        source = module.questions_source
        for index, question in enumerate(source.data["questions"]):
            where = ["questions", index]
            errors: list[LoadError] = []

            def err(path, message, where=where, errors=errors):
                errors.append(source.error(where + list(path), message))

            def render(field_path, text, errors=errors, where=where):
                def resolve(kind, url, _line):
                    new, problem = self.resolve(module, kind, url, None)
                    if problem:
                        line = source.line_in_text(where + list(field_path), url)
                        errors.append(LoadError(source.display, line, problem))
                    return new

                return render_markdown(text, resolve)[0]

            kind, answers, choices = question["type"], question["answers"], question["choices"]
            correct = sum(1 for choice in choices if choice.get("correct"))
            if kind == "single" and answers != 1:
                err(["answers"], f"a single-answer question has answers: 1, not {answers}")
            if kind == "multiple" and answers < 2:
                err(["answers"], "a multiple-answer question has answers: 2 or more (use type: single for one)")
            if correct != answers:
                err(["choices"], f"{correct} choice(s) are marked correct: true, but answers is {answers}")
            if correct >= len(choices):
                err(["choices"], "every choice is correct; add at least one wrong choice")
            # A choice's id is its identity in stored answers: explicit in the file, or its letter by
            # position (a, b, c...) for files that never reordered their choices.
            choice_ids = [str(choice.get("id", "abcdefghijklmnopqrstuvwxyz"[c])) for c, choice in enumerate(choices)]
            for c, choice_id in enumerate(choice_ids):
                if choice_id in choice_ids[:c]:
                    err(["choices", c, "id"], f"choice id {choice_id!r} is used twice in this question")
            texts = [" ".join(choice["text"].split()).lower() for choice in choices]
            for c, text in enumerate(texts):
                if text in texts[:c]:
                    err(["choices", c, "text"], "the same choice appears twice")
            stem, _, anchor = question["lesson"].partition("#")
            lesson = self.lessons.get((module.slug, stem))
            if lesson is None or Path(lesson.path).stem != stem:
                known = sorted(Path(le.path).stem for le in module.lessons)
                err(["lesson"], f"module {module.slug} has no lesson {stem!r} (lessons: {_listing(known)})")
                lesson = None
            elif anchor and anchor not in {entry["id"] for entry in lesson.toc}:
                ids = [entry["id"] for entry in lesson.toc]
                err(["lesson"], f"lesson {stem} has no heading #{anchor} (headings: {_listing(ids)})")
            lab = question.get("lab")
            if lab and lab not in self.labs:
                err(["lab"], f"there is no lab {lab!r} in this course")
            uuid_key = question["uuid"].lower()
            if uuid_key in self.scanner.uuids:
                err(["uuid"], f"uuid {question['uuid']} is already used by {self.scanner.uuids[uuid_key]}")
            prompt_html = render(["prompt"], question["prompt"])
            explanation_html = render(["explanation"], question["explanation"])
            choice_rows = []
            for c, choice in enumerate(choices):
                html = render(["choices", c, "text"], choice["text"]).strip()
                if m := PARAGRAPH.match(html):
                    if "<p>" not in m.group(1):
                        html = m.group(1)
                choice_rows.append({"id": choice_ids[c], "html": html, "correct": bool(choice.get("correct"))})
            if errors:
                self.scanner.result.errors.extend(errors)
                continue
            self.scanner.uuids[uuid_key] = f"{source.display}:{source.line(where + ['uuid'])}"
            module.questions.append(QuestionData(
                path=source.display, line=source.line(where), uuid=question["uuid"], order=index, type=kind,
                answers=answers, prompt_html=prompt_html, choices=choice_rows, explanation_html=explanation_html,
                lesson_uuid=lesson.uuid, lesson_slug=lesson.slug, anchor=anchor, lab=lab,
            ))


# --- lab rules beyond the schema ------------------------------------------------------------------


@cache
def boto_operations(service: str) -> frozenset[str] | None:
    import botocore.session
    from botocore import xform_name
    from botocore.exceptions import UnknownServiceError

    try:
        model = botocore.session.get_session().get_service_model(service)
    except UnknownServiceError:
        return None
    return frozenset(xform_name(op) for op in model.operation_names)


@cache
def boto_services() -> frozenset[str]:
    import botocore.session

    return frozenset(botocore.session.get_session().get_available_services())


def lab_semantic_errors(source: Source, file_stem: str) -> list[LoadError]:
    from labapp.grading.checks import RESERVED_KEYS, get_check
    from labapp.grading.parameters import GENERATORS, IMPLICIT_PARAMETERS
    from labapp.grading.resources import LISTERS
    from labapp.grading.solution import step_command, step_saves
    from labapp.grading.templating import names_in

    lab = source.data
    errors: list[LoadError] = []
    err = lambda path, msg: errors.append(source.error(path, msg))  # noqa: E731

    if lab["slug"] != file_stem:
        err(["slug"], f"slug {lab['slug']!r} must equal the file name {file_stem!r}")
    for i, service in enumerate(lab["services"]):
        if service not in boto_services():
            err(["services", i], f"unknown AWS service {service!r}")

    params = lab.get("parameters") or {}
    for name, spec in params.items():
        gen = GENERATORS.get(spec["generate"])
        if gen is None:
            err(["parameters", name, "generate"],
                f"unknown generator {spec['generate']!r} (known: {', '.join(sorted(GENERATORS))})")
            continue
        options = {k: v for k, v in spec.items() if k != "generate"}
        for e in Draft202012Validator(gen.options_schema).iter_errors(options):
            where = ["parameters", name, *e.absolute_path] if e.absolute_path else ["parameters", name]
            if e.validator == "additionalProperties":
                extra = [k for k in options if k not in gen.options_schema["properties"]]
                where = ["parameters", name, extra[0]] if extra else where
            err(where, f"parameter {name} ({gen.name}): {e.message}")
    declared = set(params) | set(IMPLICIT_PARAMETERS)  # the session's account id is every lab's
    extra_accounts = set(lab.get("accounts") or ())
    declared |= {f"{name}_account_id" for name in extra_accounts}  # each extra account's id

    def known_account(path, item):
        if isinstance(item, dict) and item.get("account") is not None and item["account"] not in extra_accounts:
            err(path + ["account"], f"account {item['account']!r} is not one of the lab's accounts "
                                    f"({', '.join(sorted(extra_accounts)) or 'none declared'})")

    def undeclared(path, value, allowed=declared):
        for name in sorted(names_in(value) - allowed):
            line = source.line_in_text(path, "{{") if isinstance(value, str) else source.line(path)
            if isinstance(value, str):
                line = next((source.line_in_text(path, m.group(0)) for m in re.finditer(
                    r"\{\{\s*" + re.escape(name) + r"\s*\}\}", value)), line)
            errors.append(LoadError(source.display, line, f"{{{{ {name} }}}} is not a declared parameter"))

    undeclared(["instructions"], lab["instructions"])

    for i, step in enumerate(lab.get("setup") or []):
        service, method = step["call"].split(".", 1)
        ops = boto_operations(service)
        if ops is None:
            err(["setup", i, "call"], f"unknown AWS service {service!r}")
        elif method not in ops:
            err(["setup", i, "call"], f"{service} has no boto3 operation {method!r}")
        undeclared(["setup", i], step.get("args") or {})
        known_account(["setup", i], step)

    seen_ids: set[str] = set()
    for t, task in enumerate(lab["tasks"]):
        if task["id"] in seen_ids:
            err(["tasks", t, "id"], f"task id {task['id']!r} is used twice")
        seen_ids.add(task["id"])
        undeclared(["tasks", t, "title"], task["title"])
        undeclared(["tasks", t, "hint"], task.get("hint", ""))
        for c, check in enumerate(task["checks"]):
            where = ["tasks", t, "checks", c]
            try:
                kind = get_check(check["kind"])
            except KeyError:
                err(where + ["kind"], f"unknown check kind {check['kind']!r}")
                continue
            args = {k: v for k, v in check.items() if k not in RESERVED_KEYS}
            for e in Draft202012Validator(kind.params_schema).iter_errors(args):
                path = list(e.absolute_path)
                message = e.message
                if e.validator == "additionalProperties":
                    extra = [k for k in args if k not in kind.params_schema.get("properties", {})]
                    if extra:
                        path = [extra[0]]
                        message = (f"{check['kind']} has no parameter {extra[0]!r} "
                                   f"(parameters: {', '.join(kind.params_schema['properties'])})")
                else:
                    message = f"{check['kind']}: {message}"
                err(where + path, message)
            undeclared(where, args)
            known_account(where, check)

    for r, name in enumerate(lab.get("resources") or []):
        if name not in LISTERS:
            err(["resources", r], f"unknown resource lister {name!r} (known: {', '.join(sorted(LISTERS))})")

    def check_steps(where, steps):
        available = set(declared)
        for s, step in enumerate(steps):
            undeclared(where + [s], step_command(step), available)
            known_account(where + [s], step)
            available |= set(step_saves(step))

    check_steps(["solution"], lab["solution"])
    for key in ("alternatives", "near_misses"):
        for m, route in enumerate(lab.get(key) or []):
            check_steps([key, m, "solution"], route["solution"])
    return errors


# --- entry points ---------------------------------------------------------------------------------


def scan(root: Path | str | None = None) -> ScanResult:
    if root is None:
        from django.conf import settings

        root = settings.COURSES_DIR
    return Scanner(Path(root)).scan()


def load_courses(root: Path | str | None = None, *, write: bool = True) -> ScanResult:
    """Scan and validate; with write=True upsert every valid course, module, lesson and lab by uuid."""
    result = scan(root)
    if write:
        write_result(result)
    return result


def write_result(result: ScanResult) -> None:
    from django.db import IntegrityError, transaction

    from labapp.quizzes.models import Question

    from .models import Course, Lab, Lesson, Module

    written = {"courses": 0, "modules": 0, "lessons": 0, "labs": 0, "questions": 0}

    def save(model, uuid_value, display, **fields):
        try:
            with transaction.atomic():
                obj, _ = model.objects.update_or_create(uuid=uuid_value, defaults=fields)
                return obj
        except IntegrityError as err:
            result.errors.append(LoadError(display, None, f"cannot save {model.__name__.lower()}: {err}"))
            return None

    for course in result.courses:
        c = save(Course, course.uuid, course.path, slug=course.slug, title=course.title, summary=course.summary)
        if c is None:
            continue
        written["courses"] += 1
        for module in course.modules:
            m = save(Module, module.uuid, module.path, course=c, slug=module.slug, title=module.title,
                     summary=module.summary, order=module.order)
            if m is None:
                continue
            written["modules"] += 1
            for lesson in module.lessons:
                if save(Lesson, lesson.uuid, lesson.path, module=m, slug=lesson.slug, title=lesson.title,
                        order=lesson.order, body_markdown=lesson.body_markdown, body_html=lesson.body_html):
                    written["lessons"] += 1
            for lab in module.labs:
                d = lab.definition
                if save(Lab, d["uuid"], lab.path, module=m, slug=lab.slug, title=d["title"], summary=d["summary"],
                        minutes=d["minutes"], order=lab.order, definition=d, source_path=lab.path):
                    written["labs"] += 1
            for q in module.questions:
                lesson = Lesson.objects.filter(uuid=q.lesson_uuid).first()
                lab = Lab.objects.filter(slug=q.lab).first() if q.lab else None
                if save(Question, q.uuid, q.path, module=m, type=q.type, answers=q.answers, prompt_html=q.prompt_html,
                        choices=q.choices, explanation_html=q.explanation_html, lesson=lesson, anchor=q.anchor,
                        lab=lab, order=q.order, source_path=f"{q.path}:{q.line}"):
                    written["questions"] += 1
    result.written = written
