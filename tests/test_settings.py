import pytest

from shopcore.settings import SettingsError, load_settings


def test_defaults_fill_paths_under_home(tmp_path):
    settings = load_settings(home=tmp_path)
    shop = tmp_path / "shops" / "ridgeline-outfitters"  # the demo shop's profile is the default
    assert settings.database_url == f"sqlite:///{shop / 'chatbot.db'}"
    assert settings.index_dir == shop / "index"
    assert settings.adapter_dir == shop / "adapters"
    assert settings.model_cache_dir == tmp_path / "models"  # models are shared by every shop


def test_the_profile_fills_what_describes_the_shop_and_variables_win(tmp_path, monkeypatch):
    (tmp_path / "docs").mkdir()
    (tmp_path / "shop.yaml").write_text("name: Paper Lantern Books\nlanguages: [en, fr]\n"
                                        "examples: ['Do you sell signed copies?']\n", encoding="utf-8")
    settings = load_settings(home=tmp_path, shop=tmp_path / "shop.yaml")
    assert (settings.shop_name, settings.shop_languages) == ("Paper Lantern Books", ["en", "fr"])
    assert settings.docs_dirs == [tmp_path / "docs"] and settings.store_dir is None
    assert settings.example_questions == ["Do you sell signed copies?"]
    assert settings.shipped_adapters is None  # the demo's adapter is not another shop's
    assert settings.shop_dir == tmp_path / "shops" / "paper-lantern-books"
    (tmp_path / "shop.yaml").write_text("name: Paper Lantern Books\nadapters: shipped\n", encoding="utf-8")
    assert load_settings(home=tmp_path, shop=tmp_path / "shop.yaml").shipped_adapters.name == "adapters"
    monkeypatch.setenv("CHATBOT_SHOP_NAME", "Paper Lantern")
    assert load_settings(home=tmp_path, shop=tmp_path / "shop.yaml").shop_name == "Paper Lantern"


@pytest.mark.parametrize("profile,fragment", [
    ("name: ''\n", "name"),
    ("name: X\nhours: {mon: '9-5'}\n", "09:00-17:30"),
    ("name: X\nhours: {timezone: Mars/Olympus, mon: '09:00-17:00'}\n", "unknown time zone"),
    ("name: X\nlanguage: [en]\n", "language"),
    ("- just a list\n", "mapping"),
])
def test_a_wrong_profile_names_the_file_and_the_field(tmp_path, profile, fragment):
    (tmp_path / "shop.yaml").write_text(profile, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(home=tmp_path, shop=tmp_path / "shop.yaml")
    assert "shop.yaml" in str(caught.value) and fragment in str(caught.value)


def test_business_hours_know_when_people_answer():
    from datetime import datetime, timezone

    from shopcore.profile import Hours

    hours = Hours.parse({"timezone": "Europe/London", "mon-fri": "09:00-17:30", "sat": "10:00-14:00"})
    friday_evening = datetime(2026, 12, 4, 18, 0, tzinfo=timezone.utc)  # 18:00 in London (GMT)
    assert not hours.is_open(friday_evening)
    assert hours.next_opening(friday_evening) == datetime(2026, 12, 5, 10, 0, tzinfo=hours.zone())
    assert hours.is_open(datetime(2026, 12, 7, 9, 30, tzinfo=timezone.utc))


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
