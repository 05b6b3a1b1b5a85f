"""deploy/: what cannot run here (no GPU for vLLM, no Docker daemon, no systemd as PID 1) is
validated: the compose file parsed and checked against the settings (and `docker compose
config` where the plugin exists), the systemd units through `systemd-analyze verify`, the
nginx configurations through `nginx -t` with a throw-away certificate. The trusted-proxy
setting is exercised for real: X-Forwarded-For counts only from the listed proxy."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from shopcore.settings import REPO_ROOT, Settings

DEPLOY = REPO_ROOT / "deploy"
SETTINGS = {f"CHATBOT_{name.upper()}" for name in Settings.model_fields}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_runs_the_desk_on_postgres_redis_and_vllm_with_the_adapter_by_name(compose):
    services = compose["services"]
    assert {"postgres", "redis", "setup", "vllm", "app", "nginx"} <= set(services)
    env = services["app"]["environment"]
    assert env["CHATBOT_GENERATOR"] == "openai" and env["CHATBOT_OPENAI_BASE_URL"] == "http://vllm:8000/v1"
    assert env["CHATBOT_RATE_LIMIT_STORAGE"].startswith("redis://redis:")
    assert env["CHATBOT_DATABASE_URL"].startswith("postgresql+psycopg://") and "@postgres:5432/" in env["CHATBOT_DATABASE_URL"]
    assert services["app"]["deploy"]["replicas"] >= 2
    # Only nginx's X-Forwarded-For counts, and nginx has that address.
    assert env["CHATBOT_TRUSTED_PROXIES"] == services["nginx"]["networks"]["desk"]["ipv4_address"]
    vllm = services["vllm"]
    command = " ".join(vllm["command"])
    assert "--enable-lora" in command and "--lora-modules" in command
    assert f"--served-model-name={env['CHATBOT_MODEL']}" in command  # the name the desk asks for
    assert vllm["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    assert "finetune export" in " ".join(services["setup"]["command"]) and "--format peft" in " ".join(
        services["setup"]["command"])
    assert (REPO_ROOT / services["setup"]["build"]["dockerfile"]).exists()
    for volume in services["nginx"]["volumes"]:
        source = volume.split(":")[0]
        if source.startswith("./"):
            assert (DEPLOY / source).exists(), source


def test_every_chatbot_variable_in_deploy_is_a_setting(compose):
    """A misspelt variable would be ignored silently by the settings."""
    texts = [p.read_text() for p in DEPLOY.rglob("*") if p.is_file()]
    named = {name for text in texts for name in re.findall(r"\bCHATBOT_[A-Z_]+\b", text)}
    assert named and named <= SETTINGS, named - SETTINGS


def test_docker_compose_config_accepts_it(tmp_path):
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("no `docker compose` on this machine: the YAML is checked by the other tests")
    env = tmp_path / ".env"
    env.write_text("CHATBOT_SECRET_KEY=x\nPOSTGRES_PASSWORD=x\nCHATBOT_WIDGET_KEYS={}\n")
    result = subprocess.run([docker, "compose", "-f", str(DEPLOY / "compose.yaml"), "--env-file", str(env),
                             "config", "-q"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _runnable_units(tmp_path: Path) -> Path:
    """The units with their programs pointed at ones that exist here (verify checks that)."""
    folder = tmp_path / "units"
    folder.mkdir()
    for unit in (DEPLOY / "systemd").iterdir():
        text = unit.read_text().replace("/opt/shopdesk/.venv/bin/python", sys.executable)
        (folder / unit.name).write_text(text.replace("/var/lib/shopdesk/llamacpp-venv/bin/python", sys.executable))
    return folder


def test_systemd_units_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    units = _runnable_units(tmp_path)
    names = ["shopdesk@8001.service", "shopdesk-llamacpp.service", "shopdesk.target"]
    if analyze is None:  # at least they parse, with the sections systemd needs
        import configparser

        for unit in units.iterdir():
            parser = configparser.ConfigParser(strict=False, interpolation=None)
            parser.read_string(unit.read_text())
            assert "Unit" in parser and ("Service" in parser or unit.suffix == ".target")
        pytest.skip("no systemd-analyze here: the units were parsed, not verified")
    result = subprocess.run([analyze, "verify", *names], cwd=units, capture_output=True, text=True)
    ours = [line for line in (result.stdout + result.stderr).splitlines() if "shopdesk" in line]
    assert result.returncode == 0 and not ours, "\n".join(ours) or result.stderr
    # The target starts the workers nginx's upstream names.
    wanted = re.findall(r"shopdesk@(\d+)\.service", (DEPLOY / "systemd" / "shopdesk.target").read_text())
    upstream = re.findall(r"server 127\.0\.0\.1:(\d+)", (DEPLOY / "nginx" / "shopdesk.conf").read_text())
    assert wanted == upstream


@pytest.mark.parametrize("conf", ["shopdesk.conf", "compose.conf"])
def test_nginx_accepts_the_proxy_configuration(conf, tmp_path):
    text = (DEPLOY / "nginx" / conf).read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text  # overwritten, never appended
    assert "proxy_buffering off;" in text and "ssl_certificate " in text
    nginx, openssl = shutil.which("nginx") or "/usr/sbin/nginx", shutil.which("openssl")
    if not Path(nginx).exists() or openssl is None:
        pytest.skip("no nginx or openssl here: the configuration was read, not tested")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=desk.example.com", "-keyout", tmp_path / "key.pem", "-out", tmp_path / "cert.pem"],
                   check=True, capture_output=True)
    text = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {tmp_path / 'cert.pem'};", text)
    text = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {tmp_path / 'key.pem'};", text)
    (tmp_path / conf).write_text(text.replace("server app:7860", "server 127.0.0.1:7860"))
    (tmp_path / "nginx.conf").write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
                                         f"events {{}}\nhttp {{ include {tmp_path / conf}; }}\n")
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_forwarded_addresses_count_only_from_a_trusted_proxy(api_app):
    """Behind the proxy every shopper arrives from its address: the rate limit must follow
    X-Forwarded-For from it, and ignore the header from anyone else."""
    from evals.live_server import serving

    async def statuses(base: str, source: str, forwarded: str | None, n: int) -> list[int]:
        transport = httpx.AsyncHTTPTransport(local_address=source)
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        async with httpx.AsyncClient(transport=transport) as client:
            return [(await client.post(f"{base}/v1/chat", json={"message": ""}, headers=headers)).status_code
                    for _ in range(n)]

    app = api_app(trusted_proxies="127.0.0.2", rate_limit_per_address="2/minute")
    with serving(app) as base:
        # Through the proxy: each shopper its own budget.
        assert asyncio.run(statuses(base, "127.0.0.2", "203.0.113.7", 3)) == [422, 422, 429]
        assert asyncio.run(statuses(base, "127.0.0.2", "203.0.113.8", 1)) == [422]
        # From elsewhere the header is ignored: a client cannot take a fresh address per request.
        assert asyncio.run(statuses(base, "127.0.0.3", "203.0.113.9", 1)) == [422]
        assert asyncio.run(statuses(base, "127.0.0.3", "203.0.113.10", 2)) == [422, 429]
