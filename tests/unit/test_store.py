from psycopg.conninfo import conninfo_to_dict

from feedback_core.store import Database


def test_url_round_trip_and_empty_password() -> None:
    db = Database.from_url("postgresql://postgres@127.0.0.1:54329/t_1")
    assert db.password == "" and db.dbname == "t_1"
    assert conninfo_to_dict(db.conninfo)["dbname"] == "t_1"
    assert Database.from_url(db.url) == db
    env = db.eventsourcing_env()
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert env["POSTGRES_DBNAME"] == "t_1"
