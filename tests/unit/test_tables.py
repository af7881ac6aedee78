from __future__ import annotations

from edirunbook import tables

STATUS = """=== BOTS EDI STATUS ===

Pods:
NAME                              READY   STATUS    RESTARTS   AGE
bots-jobqueue-756c9d9b79-s6wdj    1/1     Running   0          4m1s

Services:
NAME             TYPE        CLUSTER-IP      EXTERNAL-IP   PORT(S)    AGE
bots-webserver   ClusterIP   10.96.201.130   <none>        8080/TCP   2m

Recent Jobs:
bots-engine-manual-1796022003   Complete   1/1           4s         4s

Ingress:
NAME               CLASS   HOSTS                ADDRESS   PORTS   AGE
bots-edi-ingress   nginx   bots-edi.localtest             80      2m26s

Health Check:
✗ Unhealthy
"""


def test_a_script_output_is_cut_at_its_title_lines() -> None:
    found = tables.sections(STATUS)
    assert list(found) == ["Pods", "Services", "Recent Jobs", "Ingress", "Health Check"]
    assert found["Health Check"] == "✗ Unhealthy"
    assert found["Recent Jobs"].startswith("bots-engine-manual-1796022003")


def test_cells_are_cut_at_the_header_columns_so_empty_cells_stay_empty() -> None:
    [ingress] = tables.rows(tables.sections(STATUS)["Ingress"])
    assert ingress == {"NAME": "bots-edi-ingress", "CLASS": "nginx", "HOSTS": "bots-edi.localtest", "ADDRESS": "",
                       "PORTS": "80", "AGE": "2m26s"}
    schedule = "NAME          SCHEDULE    TIMEZONE   SUSPEND\nbots-engine   0 2 * * *   <none>     True\n"
    assert tables.rows(schedule)[0]["SCHEDULE"] == "0 2 * * *"


def test_text_without_a_header_has_no_rows() -> None:
    assert tables.rows(tables.sections(STATUS)["Recent Jobs"]) == []
    assert tables.rows("No resources found in edi namespace.") == []
