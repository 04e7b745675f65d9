"""The project's promises about itself: every variable documented, the real stack described."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ENV_READ = re.compile(r"(?:env\.(?:str|bool|int|float|list|database|redis_url|json|url)|_cron)\(\s*\"([A-Z_]+)\"")


def variables_read() -> set[str]:
    names: set[str] = set()
    for path in [*ROOT.glob("core/**/*.py"), *ROOT.glob("betting/**/*.py")]:
        names |= set(ENV_READ.findall(path.read_text()))
    return names


def test_every_variable_is_in_env_example_and_the_readme():
    names = variables_read()
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"} <= names
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    missing_example = sorted(n for n in names if not re.search(rf"^#? ?{n}=", example, re.M))
    missing_readme = sorted(n for n in names if f"`{n}`" not in readme)
    assert missing_example == [] and missing_readme == []


def test_compose_runs_the_real_stack_from_one_image():
    compose = yaml.safe_load((ROOT / "docker" / "compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    images = {services[name]["image"] for name in ("web", "worker", "beat")}
    assert len(images) == 1
    for name in ("web", "worker", "beat"):
        assert services[name]["build"]["dockerfile"] == "docker/Dockerfile"
        env = services[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "core.settings.production"
        assert env["DATABASE_URL"].startswith("postgres://") and env["REDIS_URL"].startswith("redis://")


def test_dockerfile_runs_as_a_non_root_user_with_a_healthcheck():
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert dockerfile.count("FROM ") >= 2  # multi-stage
    assert re.search(r"^USER (?!root)\S+", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile and "/health" in dockerfile


def test_requirements_are_pinned():
    for name in ("base.txt", "dev.txt", "prod.txt"):
        for line in (ROOT / "requirements" / name).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "-r")):
                assert "==" in line, f"{name}: {line} is not pinned"


def test_models_and_migrations_agree(db):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)  # exits non-zero when behind
    assert "No changes detected" in out.getvalue()
