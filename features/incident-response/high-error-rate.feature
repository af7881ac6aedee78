@runbook:high-error-rate
Feature: High error rate
  A real error rate: a burst of files trading partners get wrong (malformed orders, a CSV, an invoice no
  grammar reads) goes through the engine next to a good order. The runbook's log search finds every error
  the database records, with the same cause. Its `grep ... /var/log/bots/*.log` finds nothing: Bots keeps
  its logs in botssys/logging on the data volume, and never writes "Grammar not found" (docs/runbook.md
  has the commands that work).

  Scenario: A burst of bad files; the logs show every error the database records
    Given the Bots EDI deployment is healthy
    And the sample file "ORDERS_good.edi" is in the inbound directory
    And a burst of bad files is in the inbound directory: 2 malformed orders, 1 files that are not EDIFACT and 1 invoices no grammar reads
    When the operator runs "kubectl create job --from=cronjob/bots-engine bots-engine-manual-$(date +%s) -n edi"
    Then the engine job finishes "Complete" within 3m
    When the operator runs "kubectl logs -n edi -l app=bots-edi --since=30m | grep -i error | head -50"
    Then the output names every bad file with the error the database records for it
    When the operator runs "kubectl logs -n edi -l app=bots-edi --since=30m --tail=-1 | grep -i error | head -50"
    Then the output names every bad file with the error the database records for it
    When the operator runs "grep "Grammar not found" /var/log/bots/*.log" on the webserver pod, which fails
    Then the output contains "/var/log/bots/*.log: No such file or directory"
    When the operator runs "grep "Mapping error" /var/log/bots/*.log" on the webserver pod, which fails
    Then the output contains "/var/log/bots/*.log: No such file or directory"
    When the operator runs:
      """
      kubectl exec -n edi deployment/bots-webserver -- \
        sh -c 'grep -h "No (valid) grammar" /home/bots/.bots/botssys/logging/engine.log*'
      """
    Then the output names every invoice of the burst
