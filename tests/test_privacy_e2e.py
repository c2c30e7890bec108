"""Privacy by default: pseudonymised names (keyed hash) through a real crawl, forget by
name still works with pseudonyms, secrets never reach logs, reports or stored objects, and
a secret can come from a Prefect Secret block instead of the environment."""
from __future__ import annotations

import pytest

from infra.index import read_merged_index
from infra.settings import load_settings
from tests.demo import served_demo

pytestmark = pytest.mark.slow
TEXT_SUFFIXES = (".csv", ".json", ".md", ".html", ".txt", ".yaml", ".log")


def test_pseudonymised_crawl_forget_and_no_secret_anywhere(cli, store, settings, tmp_path):
    pseudonym_key = "test-pseudonym-key-" + "x" * 20
    env = {"ACADEMIC_FACES_DOWNLOAD_DELAY": "0.05", "ACADEMIC_FACES_PSEUDONYMISE_NAMES": "true",
           "ACADEMIC_FACES_PSEUDONYM_KEY": pseudonym_key}
    outputs = []
    with served_demo(tmp_path, people_per_department=3) as (registry, truth):
        outputs.append(cli("crawl", "--departments", str(registry), env=env, timeout=600))
        index = read_merged_index(store)
        people = [p for d in truth.departments for p in d.people]
        assert len(index[index["status"] == "present"]) == len(people)
        raw = store.get_bytes("raw/index.csv").decode()
        assert not any(p.name in raw for p in people)  # no clear name is stored
        assert index["name"].str.startswith("person-").all() and (index["name"] == index["name_key"]).all()

        outputs.append(cli("preprocess", "--workers", "2", env=env))
        person = people[0]
        outputs.append(cli("forget", "--name", person.name, env=env))
        assert person.sha256 not in set(read_merged_index(store)["sha256"])
        outputs.append(cli("crawl", "--departments", str(registry), env=env, timeout=600))  # not collected again
        assert person.sha256 not in set(read_merged_index(store)["sha256"])
        missing_key = cli("crawl", "--departments", str(registry), check=False,
                          env={"ACADEMIC_FACES_PSEUDONYMISE_NAMES": "true"})
        assert missing_key.returncode == 1 and "needs a secret ACADEMIC_FACES_PSEUDONYM_KEY" in missing_key.stderr

    secrets = [settings.s3_secret_key, pseudonym_key]
    texts = [p.stdout + p.stderr for p in outputs]
    texts += [store.get_bytes(o.key).decode("utf-8", "replace") for o in store.list("")
              if o.key.endswith(TEXT_SUFFIXES)]
    texts += [f.read_text(errors="replace") for f in settings.home.rglob("*")
              if f.is_file() and f.suffix in TEXT_SUFFIXES and "seaweed" not in f.parts]
    for secret in secrets:
        assert not any(secret in text for text in texts), "a secret leaked into a log, report or object"


def test_secret_from_a_prefect_secret_block(prefect_api):
    from prefect.blocks.system import Secret

    Secret(value="s3cret-from-block").save("af-test-s3-secret", overwrite=True)
    settings = load_settings(env={"ACADEMIC_FACES_S3_SECRET_KEY_BLOCK": "af-test-s3-secret"})
    assert settings.s3_secret_key == "s3cret-from-block"
    assert "s3cret-from-block" not in repr(settings) and settings.public_dict()["s3_secret_key"] == "***"
    with pytest.raises(ValueError, match="cannot load the Prefect Secret block 'no-such-block'"):
        load_settings(env={"ACADEMIC_FACES_S3_SECRET_KEY_BLOCK": "no-such-block"})
