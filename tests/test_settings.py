import pytest

from shopcore.settings import SettingsError, load_settings


def test_defaults_fill_paths_under_home(tmp_path):
    settings = load_settings(home=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'chatbot.db'}"
    assert settings.index_dir == tmp_path / "index"
    assert settings.model_cache_dir == tmp_path / "models"


@pytest.mark.parametrize(
    "variable,value",
    [
        ("CHATBOT_DEVICE", "tpu"),
        ("CHATBOT_TOP_K", "0"),
        ("CHATBOT_DATABASE_URL", "mysql://localhost/shop"),
        ("CHATBOT_PORT", "not-a-port"),
        ("CHATBOT_MAX_MESSAGE_CHARS", "-5"),
        ("CHATBOT_COVERAGE_THRESHOLD", "1.5"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()


def test_production_refuses_the_development_secret(monkeypatch):
    monkeypatch.setenv("CHATBOT_ENV", "production")
    with pytest.raises(SettingsError, match="CHATBOT_SECRET_KEY"):
        load_settings()
    monkeypatch.setenv("CHATBOT_SECRET_KEY", "k3B9-xq7Lw2_Zp0RtY5uVn8sDf4Gh6Jm")
    assert load_settings().env == "production"


def test_env_file_is_read(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("CHATBOT_SHOP_NAME=Harbour Books\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().shop_name == "Harbour Books"


def test_an_empty_shipped_adapters_setting_means_none(monkeypatch):
    assert load_settings().shipped_adapters.name == "adapters"  # the demo shop's, by default
    monkeypatch.setenv("CHATBOT_SHIPPED_ADAPTERS", "")
    assert load_settings().shipped_adapters is None


@pytest.mark.parametrize("secret", ["", "secret", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "short-but-varied-1234"])
def test_production_refuses_a_weak_secret(monkeypatch, secret):
    monkeypatch.setenv("CHATBOT_ENV", "production")
    monkeypatch.setenv("CHATBOT_SECRET_KEY", secret)
    with pytest.raises(SettingsError, match="CHATBOT_SECRET_KEY"):
        load_settings()


def test_a_configuration_error_never_prints_a_secret_or_a_password(monkeypatch):
    monkeypatch.setenv("CHATBOT_ENV", "production")
    monkeypatch.setenv("CHATBOT_SECRET_KEY", "secret")
    monkeypatch.setenv("CHATBOT_OPENAI_API_KEY", "sk-live-key-1234567890")
    monkeypatch.setenv("CHATBOT_DATABASE_URL", "postgresql+psycopg://shop:hunter2-pass@db/shop")
    with pytest.raises(SettingsError, match="CHATBOT_SECRET_KEY") as caught:  # checked on all settings
        load_settings()
    message = str(caught.value)
    assert "sk-live" not in message and "hunter2" not in message and "'secret'" not in message
    monkeypatch.setenv("CHATBOT_DATABASE_URL", "mysql://shop:hunter2-pass@db/shop")
    with pytest.raises(SettingsError, match="CHATBOT_DATABASE_URL") as caught:
        load_settings()
    assert "hunter2" not in str(caught.value) and "shop:***@db" in str(caught.value)
