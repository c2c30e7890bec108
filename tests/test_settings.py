import pytest

from infra.settings import SettingsError, load_settings, settings_env


def test_defaults_are_polite_and_embedded():
    s = load_settings(env={})
    assert s.embedded and s.bucket == "academic-faces" and s.download_delay >= 1.0
    assert s.user_agent.startswith("academic-faces/") and s.contact_url in s.user_agent


def test_file_then_environment_override(tmp_path):
    conf = tmp_path / "c.yaml"
    conf.write_text("bucket: from-file\ndownload_delay: 2.5\ns3_secret_key: hunter2\n")
    s = load_settings(env={"ACADEMIC_FACES_CONFIG": str(conf), "ACADEMIC_FACES_BUCKET": "from-env"})
    assert s.bucket == "from-env" and s.download_delay == 2.5
    assert "hunter2" not in repr(s) and s.public_dict()["s3_secret_key"] == "***"


def test_round_trip_through_child_environment(tmp_path):
    s = load_settings(env={}).replace(home=tmp_path, s3_endpoint="http://127.0.0.1:9", bucket="b")
    assert load_settings(env=settings_env(s)) == s


@pytest.mark.parametrize("env, message", [
    ({"ACADEMIC_FACES_DOWNLOAD_DELAY": "soon"}, "download_delay: expected a number"),
    ({"ACADEMIC_FACES_MIN_IMAGE_SIDE": "-3"}, "must not be negative"),
    ({"ACADEMIC_FACES_CONFIG": "/nonexistent.yaml"}, "does not exist"),
])
def test_bad_values_name_the_setting(env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(env=env)


def test_unknown_key_in_file(tmp_path):
    conf = tmp_path / "c.yaml"
    conf.write_text("buckett: x\n")
    with pytest.raises(SettingsError, match="unknown setting 'buckett'"):
        load_settings(env={}, config_file=conf)


def test_booleans_and_pseudonym_key_are_checked():
    assert load_settings(env={"ACADEMIC_FACES_PSEUDONYMISE_NAMES": "false"}).pseudonymise_names is False
    on = load_settings(env={"ACADEMIC_FACES_PSEUDONYMISE_NAMES": "yes", "ACADEMIC_FACES_PSEUDONYM_KEY": "k" * 32})
    assert on.pseudonymise_names is True and "k" * 32 not in repr(on) and on.public_dict()["pseudonym_key"] == "***"
    with pytest.raises(SettingsError, match="expected true or false"):
        load_settings(env={"ACADEMIC_FACES_PSEUDONYMISE_NAMES": "maybe"})
    with pytest.raises(SettingsError, match="needs a secret ACADEMIC_FACES_PSEUDONYM_KEY"):
        load_settings(env={"ACADEMIC_FACES_PSEUDONYMISE_NAMES": "1"})
