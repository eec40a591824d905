"""The page's own files (src/initlab/playground/static/): nothing loaded from outside the package, and
lessons (lessons.json) that are valid settings showing their lesson.

The settings of every lesson pass `Settings.create` (the server would refuse nothing), and each names
its sources; the lesson's claim about the numbers holds for the symmetry lesson, checked on the session.
The page itself is tested in a browser in tests/playground/browser.
"""

import json
import math
import re
from importlib.resources import files

import pytest

from initlab.playground import Settings

STATIC = files("initlab.playground") / "static"
LESSONS = json.loads((STATIC / "lessons.json").read_text(encoding="utf-8"))


def test_the_page_loads_nothing_from_outside_the_package():
    names = sorted(entry.name for entry in STATIC.iterdir())
    assert {"index.html", "app.js", "style.css", "lessons.json"} <= set(names)
    for name in names:
        text = (STATIC / name).read_text(encoding="utf-8")
        assert not re.search(r"(https?:)?//[\w.-]+\.[a-z]{2,}/|@import|url\(", text), name  # no URL, CSS import or font
        for reference in re.findall(r'(?:src|href)="([^"]+)"', text):  # the page's scripts and styles are its own
            assert reference.startswith("/static/") or reference == "data:,", (name, reference)
        for module in re.findall(r'from "(\./[^"]+)"', text):
            assert module[2:] in names, (name, module)


def test_there_are_the_four_lessons_of_the_issue():
    assert [lesson["id"] for lesson in LESSONS] == ["symmetry", "large", "vanishing", "relu-depth"]
    assert [(lesson["settings"]["init"], *lesson["settings"]["compare"]) for lesson in LESSONS] == [
        ("zeros", "he_normal"), ("normal(std=10)", "he_normal"), ("normal(std=0.01)", "xavier_normal"),
        ("xavier_normal", "he_normal")]


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson["id"] for lesson in LESSONS])
def test_every_lesson_is_a_setting_the_server_accepts_and_names_its_sources(lesson):
    settings = Settings.create(**lesson["settings"])
    # canonical already, so the page shows the lesson's specs exactly as the server returns them
    assert settings.model_dump(mode="json") == {**Settings().model_dump(mode="json"), **lesson["settings"]}
    assert 2 <= len(lesson["text"]) <= 3 and lesson["watch"] and lesson["sources"]
    text = " ".join(lesson["text"])
    assert all(source.split(",")[0].split(" ")[-1] in text for source in lesson["sources"]), lesson["sources"]


@pytest.mark.slow
def test_the_symmetry_lesson_holds_its_cost_at_ln2():
    from initlab.playground import Session
    settings = Settings.create(**{**LESSONS[0]["settings"], "n_seeds": 2})
    session = Session(settings)
    zeros, he = session.state()["schemes"]
    session.step(200)
    zeros_later, he_later = session.state()["schemes"]
    assert zeros["mean_cost"] == zeros_later["mean_cost"] == math.log(2)
    assert he_later["mean_cost"] < he["mean_cost"] - 0.01
