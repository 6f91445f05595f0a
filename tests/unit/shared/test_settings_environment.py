"""Settings.environment() is read back by Settings.from_env: a worker started with it reaches the same servers."""
from pathlib import Path

from shared.config import Settings


def test_the_environment_of_settings_reads_back_as_the_same_settings():
    settings = Settings(service_name="allocation", database_url="postgresql+psycopg://postgres@127.0.0.1:5555/t_1",
                        kafka_bootstrap_servers="127.0.0.1:19999", redis_url="redis://127.0.0.1:16666/3",
                        kafka_topic_prefix="t42.", jwt_public_key_file=Path("/keys/public.pem"),
                        jwt_private_key_file=Path("/keys/private.pem"), log_level="WARNING")
    read_back = Settings.from_env("allocation", settings.environment())
    assert read_back == settings
