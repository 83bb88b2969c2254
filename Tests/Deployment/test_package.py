"""Package.swift says what each module uses, exactly: every target's dependencies equal the modules
its sources import (no undeclared import that happens to build through another target, no
declared dependency left unused), and every library module has its own test target."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = {"Foundation", "FoundationEssentials", "Glibc", "Synchronization", "Testing", "Dispatch", "XCTest"}


def targets():
    text = (ROOT / "Package.swift").read_text()
    found = {}
    for match in re.finditer(r'\.(target|executableTarget|testTarget)\(\s*name: "([^"]+)",\s*dependencies: \[(.*?)\n            \]', text, re.S):
        kind, name, body = match.groups()
        local = set(re.findall(r'^\s*"([^"]+)"', body, re.M)) | set(re.findall(r'(?<=[,\[ ])"([A-Za-z]+)"(?=,)', body))
        products = set(re.findall(r'\.product\(name: "([^"]+)"', body))
        path = re.search(r'path: "([^"]+)"', text[match.end():match.end() + 200])
        folder = ROOT / (path.group(1) if path and kind == "target" and name == "TestSupport" else
                         ("Tests" if kind == "testTarget" else "Sources") + "/" + name)
        found[name] = (kind, local | products, folder)
    return found


def imports(folder):
    names = set()
    for source in folder.rglob("*.swift"):
        names |= set(re.findall(r"^(?:@testable )?import ([A-Za-z_0-9]+)", source.read_text(), re.M))
    return names - PLATFORM


def test_every_targets_dependencies_equal_its_imports():
    found = targets()
    assert len(found) > 20, found.keys()
    problems = []
    for name, (kind, declared, folder) in found.items():
        used = imports(folder)
        if used - declared:
            problems.append(f"{name} imports {sorted(used - declared)} without declaring them")
        if declared - used:
            problems.append(f"{name} declares {sorted(declared - used)} without importing them")
    assert not problems, "\n".join(problems)


def test_every_library_module_has_its_own_test_target():
    found = targets()
    libraries = [name for name, (kind, _, _) in found.items() if kind == "target" and name != "TestSupport"]
    missing = [name for name in libraries if f"{name}Tests" not in found]
    assert not missing, missing
    for name in libraries:
        assert any((ROOT / "Tests" / f"{name}Tests").glob("*.swift")), name
