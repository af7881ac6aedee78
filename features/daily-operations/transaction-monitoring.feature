@runbook:transaction-monitoring @readonly
Feature: Transaction monitoring
  The runbook opens the web UI and reads a dashboard: transactions of the last 24 hours, the error rate,
  the queue depth and the processing time. Bots 3.3.1 has no dashboard: after login it shows its home page
  (versions and paths). The transactions, the received files, are in Select > Incoming with the last 24
  hours as Datefrom; the failed ones with Statust Error, each with its reason (error rate = failed files /
  files); the engine's runs in Select > Reports (per run). Queue depth and processing time are on no page:
  files waiting are the files in the inbound directory, run durations are in /metrics.

  Scenario: The web UI's transactions and errors of the last 24 hours equal the database's
    Given the Bots EDI deployment is healthy
    And the sample file "ORDERS_malformed.edi" is in the inbound directory
    And the engine has translated the sample file "ORDERS_good.edi" 3 times
    When the operator opens "https://bots-edi.pminc.me" in a browser and logs in
    Then the page shows "Bots Open Source EDI Translator"
    When the operator selects the incoming files of the last 24 hours in the web UI
    Then the number the web UI shows equals the database's
    When the operator selects the incoming files with errors of the last 24 hours in the web UI
    Then the number the web UI shows equals the database's
    And the web UI lists each failed file with the reason the database records
    When the operator selects the engine runs of the last 24 hours in the web UI
    Then the number the web UI shows equals the database's
    When the operator runs "kubectl exec -n edi deployment/bots-webserver -- ls -A /home/bots/.bots/botssys/infile/edifact_orders"
    Then the output does not contain "ORDERS_"
    When the operator runs "curl -s https://bots-edi.pminc.me/metrics | grep -E '^bots_(processing_duration_seconds_(sum|count)|last_run_timestamp_seconds) '"
    Then the output contains "bots_processing_duration_seconds_count"

  @runbook:high-error-rate
  Scenario: The runbook's admin page opens after login: Bots' home page, and the admin's lists from its menu
    Given the Bots EDI deployment is healthy
    When the operator opens "https://bots-edi.pminc.me/admin/" in a browser and logs in
    Then the page shows "Bots Open Source EDI Translator"
    And the admin site lists the route "edifact_orders"
