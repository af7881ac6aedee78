@runbook:health-checks
Feature: Morning health checks
  The runbook's five-minute morning checks, run as written: every pod Running, no errors in the
  last day's logs, the engine's recent runs, and the data volume's usage; and the site answering its users
  over HTTPS through the ingress.

  @readonly
  Scenario: The morning checks find every pod Running and room on the data volume
    Given the Bots EDI deployment is healthy
    When the operator runs "kubectl get pods -n edi"
    Then every listed pod is Running or Completed
    When the operator runs "kubectl get jobs -n edi -l app=bots-edi"
    And the operator runs "kubectl exec -n edi deployment/bots-webserver -- df -h /home/bots/.bots"
    Then the data volume is less than 90% full
    And GET /health/ping through the ingress answers 200

  Scenario: The day's error search: with a selector kubectl shows 10 lines a pod, so errors stay hidden
    Given the Bots EDI deployment is healthy
    And a burst of bad files is in the inbound directory: 12 malformed orders, 0 files that are not EDIFACT and 0 invoices no grammar reads
    When the operator runs "kubectl create job --from=cronjob/bots-engine bots-engine-manual-$(date +%s) -n edi"
    Then the engine job finishes "Complete" within 3m
    When the operator runs "kubectl logs -n edi -l app=bots-edi --since=24h | grep -i error"
    Then the output leaves out some of the bad files: kubectl shows 10 lines a pod
    When the operator runs "kubectl logs -n edi -l app=bots-edi --since=24h --tail=-1 | grep -i error"
    Then the output names every bad file with the error the database records for it
