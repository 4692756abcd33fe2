"""Security: what the code and its dependencies hold. No pickle (nor dill, joblib, shelve, marshal,
allow_pickle switched on, torch loading) in any Python file, and a lower and an upper bound on every
dependency in pyproject.toml; each scanner is tested on planted examples first."""
from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement

from app.settings import REPO_ROOT


# -- no pickle ----------------------------------------------------------------------------------
PICKLE = re.compile(r"^\s*(import|from)\s+(c?pickle|_pickle|dill|cloudpickle|joblib|shelve|marshal)\b"
                    r"|allow_pickle\s*=\s*True|\bpickle\.loads?\(|\btorch\.load\(", re.MULTILINE | re.IGNORECASE)


def pickle_uses(text: str) -> list[str]:
    return [m.group(0).strip() for m in PICKLE.finditer(text)]


def test_the_pickle_scanner_finds_pickle():
    planted = "import pickle\nfrom cPickle import loads\nnp.load(f, allow_pickle" + "=True)\nx = pickle" + ".loads(b)\n"
    assert len(pickle_uses(planted)) == 4  # (split so that this file does not hold them)
    assert pickle_uses("np.load(path, allow_pickle=False)\n# no pickle here\n") == []


def test_no_python_file_uses_pickle():
    skip = {".venv", "node_modules", ".git", "build", "dist"}
    sources = [p for p in REPO_ROOT.rglob("*.py") if not skip & set(p.relative_to(REPO_ROOT).parts)]
    assert len(sources) > 20
    found = {str(p.relative_to(REPO_ROOT)): uses for p in sources if (uses := pickle_uses(p.read_text()))}
    assert found == {}


# -- dependencies ---------------------------------------------------------------------------------
def bounded(requirement: str) -> bool:
    """True when the requirement has a lower bound (>=, >, ~=, ==) and an upper one (<, <=, ~=, ==)."""
    operators = {spec.operator for spec in Requirement(requirement).specifier}
    return bool(operators & {">=", ">", "~=", "=="}) and bool(operators & {"<", "<=", "~=", "=="})


def test_the_bound_check_tells_ranges_from_open_ends():
    assert bounded("numpy>=1.26,<3") and bounded("x~=1.2") and bounded("y==2.0")
    assert not bounded("numpy>=1.26") and not bounded("numpy<3") and not bounded("numpy")


def test_every_dependency_has_a_lower_and_an_upper_bound():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for group in project.get("optional-dependencies", {}).values():
        requirements += group
    assert len(requirements) >= 6
    assert [r for r in requirements if not bounded(r)] == []
