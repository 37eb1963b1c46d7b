import pytest

from coordkit.config import load_settings
from coordkit.errors import ConfigError


def test_settings_resolve_paths_against_the_checkout(root, settings):
    assert settings.root == root
    assert settings.facts == root / "datasets" / "facts.yml"
    assert settings.db_url == f"sqlite:///{root / 'assignments' / 'gradebook.db'}"


def test_settings_are_frozen(settings):
    with pytest.raises(Exception):
        settings.db_url = "sqlite://"


def test_overrides_keep_the_rest(settings):
    other = settings.with_overrides(db_url="postgresql://u@h/db", reports_dir=None)
    assert other.db_url == "postgresql://u@h/db" and other.reports_dir == settings.reports_dir


@pytest.mark.parametrize("text, message", [
    ("[project]\nname='x'\n", "has no \\[tool.coordkit\\] table"),
    ("[tool.coordkit\n", "is not valid TOML"),
    ("[tool.coordkit]\nfacts='f.yml'\ncolour='red'\n", "unknown key\\(s\\) \\['colour'\\]"),
    ("[tool.coordkit]\nfacts='f.yml'\n", "missing key\\(s\\)"),
])
def test_bad_pyproject_is_named(tmp_path, text, message):
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(tmp_path)
