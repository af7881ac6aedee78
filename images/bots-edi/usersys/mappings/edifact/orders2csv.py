"""Mapping EDIFACT ORDERS D.96A (grammars/edifact/ORDERSD96AUN) -> CSV orders (grammars/csv/orders_out)."""


def main(inn, out):
    unh = {"BOTSID": "UNH"}
    ordernumber = inn.get(unh, {"BOTSID": "BGM", "1004": None})
    out.ta_info["botskey"] = ordernumber  # shown in the web UI and kept in ta.botskey
    out.put({"BOTSID": "HEA", "ORDERNUMBER": ordernumber})
    out.put({"BOTSID": "HEA", "ORDERDATE": inn.get(unh, {"BOTSID": "DTM", "C507.2005": "137", "C507.2380": None})})
    out.put({"BOTSID": "HEA", "BUYER": inn.get(unh, {"BOTSID": "NAD", "3035": "BY", "C082.3039": None})})
    out.put({"BOTSID": "HEA", "SUPPLIER": inn.get(unh, {"BOTSID": "NAD", "3035": "SU", "C082.3039": None})})
    out.put({"BOTSID": "HEA", "SENDER": inn.ta_info.get("frompartner")})
    out.put({"BOTSID": "HEA", "INTERCHANGE": inn.ta_info.get("reference")})
    for lin in inn.getloop(unh, {"BOTSID": "LIN"}):
        line = out.putloop({"BOTSID": "HEA"}, {"BOTSID": "LIN"})
        line.put({"BOTSID": "LIN", "LINENUMBER": lin.get({"BOTSID": "LIN", "1082": None})})
        line.put({"BOTSID": "LIN", "EAN": lin.get({"BOTSID": "LIN", "C212.7140": None})})
        line.put({"BOTSID": "LIN", "QUANTITY": lin.get(
            {"BOTSID": "LIN"}, {"BOTSID": "QTY", "C186.6063": "21", "C186.6060": None})})
