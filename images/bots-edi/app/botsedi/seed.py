"""The route of this image, `edifact_orders`, as Bots configuration rows (channels, translation, route).

EDIFACT ORDERS D.96A files dropped in botssys/infile/edifact_orders are translated by the mapping
usersys/mappings/edifact/orders2csv.py to CSV files in botssys/outfile/edifact_orders.
Rows are only added when missing, so changes made in the web UI survive every init-db.
"""

import os

from bots import botsglobal

from botsedi.paths import ROUTE_ID

IN_CHANNEL = ROUTE_ID + "_in"
OUT_CHANNEL = ROUTE_ID + "_out"


def seed_route() -> list:
    from bots import models

    botssys = botsglobal.ini.get("directories", "botssys")
    done = []
    _, created = models.channel.objects.get_or_create(
        idchannel=IN_CHANNEL,
        defaults=dict(
            inorout="in",
            type="file",
            path=os.path.join(botssys, "infile", ROUTE_ID),
            filename="*",  # every file, so a file of unknown format is an error, not ignored
            remove=True,  # else every run reads the same files again
            desc="EDIFACT ORDERS from trading partners (edirunbook sample route)",
        ),
    )
    done += ["created channel " + IN_CHANNEL] if created else []
    _, created = models.channel.objects.get_or_create(
        idchannel=OUT_CHANNEL,
        defaults=dict(
            inorout="out",
            type="file",
            path=os.path.join(botssys, "outfile", ROUTE_ID),
            filename="orders_*.csv",  # * is replaced by a unique counter
            desc="Orders as CSV for the order system (edirunbook sample route)",
        ),
    )
    done += ["created channel " + OUT_CHANNEL] if created else []
    _, created = models.translate.objects.get_or_create(
        fromeditype="edifact",
        frommessagetype="ORDERSD96AUN",
        alt="",
        frompartner=None,
        topartner=None,
        defaults=dict(
            active=True, tscript="orders2csv", toeditype="csv", tomessagetype="orders_out",
            desc="EDIFACT ORDERS D.96A to CSV",
        ),
    )
    done += ["created translation edifact ORDERSD96AUN -> csv orders_out"] if created else []
    _, created = models.routes.objects.get_or_create(
        idroute=ROUTE_ID,
        seq=1,
        defaults=dict(
            active=True,
            fromchannel_id=IN_CHANNEL,
            fromeditype="edifact",
            frommessagetype="edifact",
            tochannel_id=OUT_CHANNEL,
            translateind=1,
            desc="EDIFACT ORDERS in, CSV out",
        ),
    )
    done += ["created route " + ROUTE_ID] if created else []
    return done
