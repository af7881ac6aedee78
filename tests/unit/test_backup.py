"""A restore is judged by fingerprints: every table's rows and checksum, every file's sha256."""
from edirunbook.backup import Fingerprint

BEFORE = Fingerprint(
    tables={"ta": (10, 111), "persist": (2, 222)},
    files={"data/0/57": "aaa", "outfile/edifact_orders/orders_1.csv": "bbb"},
    referenced=frozenset({"data/0/57", "outfile/edifact_orders/orders_1.csv"}),
)


def test_an_identical_restore_has_no_differences() -> None:
    assert BEFORE.differences(BEFORE) == []


def test_a_missing_table_is_named_with_what_it_held() -> None:
    after = Fingerprint({"ta": (10, 111)}, BEFORE.files, BEFORE.referenced)
    assert BEFORE.differences(after) == ["table persist: before 2 rows, checksum 222, after missing"]


def test_changed_rows_and_files_are_reported() -> None:
    after = Fingerprint({"ta": (9, 110), "persist": (2, 222)}, {"data/0/57": "zzz"}, BEFORE.referenced)
    problems = BEFORE.differences(after)
    assert "table ta: before 10 rows, checksum 111, after 9 rows, checksum 110" in problems
    assert "file data/0/57: before aaa, after zzz" in problems
    assert "ta points at outfile/edifact_orders/orders_1.csv, which is not on the volume" in problems


def test_tables_rebuilt_by_the_restore_tooling_can_be_ignored() -> None:
    after = Fingerprint({"ta": (10, 111), "persist": (2, 222), "django_migrations": (20, 5)}, BEFORE.files,
                        BEFORE.referenced)
    assert BEFORE.differences(after, ignore_tables=frozenset({"django_migrations"})) == []


def test_a_dumpdata_round_trip_compares_timestamps_to_the_millisecond() -> None:
    before = Fingerprint({"auth_user": (1, 111)}, {}, frozenset(), {"auth_user": "same"})
    after = Fingerprint({"auth_user": (1, 222)}, {}, frozenset(), {"auth_user": "same"})
    assert before.differences(after) == ["table auth_user: before 1 rows, checksum 111, after 1 rows, checksum 222"]
    assert before.differences(after, to_the_millisecond=True) == []
    changed = Fingerprint({"auth_user": (1, 222)}, {}, frozenset(), {"auth_user": "other"})
    assert before.differences(changed, to_the_millisecond=True) == [
        "table auth_user: its rows differ (timestamps compared to the millisecond)"]
