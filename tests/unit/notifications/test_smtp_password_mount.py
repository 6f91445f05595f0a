"""The notifications worker's manifest gives it the SMTP password as a file from guichet-secrets, in a way that
lets a rotated password through and a relay without login start without the key."""
from pathlib import Path

import yaml

WORKER = Path(__file__).resolve().parents[3] / "deploy" / "kubernetes" / "base" / "notifications-worker.yaml"


def test_the_smtp_password_is_a_file_from_the_optional_key_of_guichet_secrets_never_a_variable():
    deployment = next(doc for doc in yaml.safe_load_all(WORKER.read_text()) if doc["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {entry["name"]: entry for entry in container["env"]}
    assert "GUICHET_SMTP_PASSWORD" not in env
    password_file = env["GUICHET_SMTP_PASSWORD_FILE"]["value"]
    mount = next(m for m in container["volumeMounts"] if password_file.startswith(m["mountPath"] + "/"))
    assert "subPath" not in mount, "a subPath mount never sees a rotated password"
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])["secret"]
    assert volume["secretName"] == "guichet-secrets" and volume["optional"] is True
    assert volume["items"] == [{"key": "smtp-password", "path": Path(password_file).name}]
