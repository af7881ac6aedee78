@runbook:database-connection-loss @destructive @rto:5-30m
Feature: Database connection loss
  When the database goes away the web pods must leave the Service (readiness) but never restart
  (liveness does not check the database); when it comes back, everything is Ready again. The runbook's
  `systemctl status mysql` runs "on the DB server": env.yaml `hosts` says how this environment reaches it
  (the database container) and what runs there instead (no systemd in it: the server process).

  Scenario: The database server goes down and comes back
    Given the Bots EDI deployment is healthy
    And the container restart counts are noted
    When the database server goes down
    Then GET /health/ready answers 503 within 1m
    And service bots-webserver has no ready endpoints within 1m
    When the operator runs "kubectl exec -n edi deployment/bots-webserver -- nc -zv kona.db.pminc.me 3306", which fails
    Then the output shows a database connection error
    When the operator runs "systemctl status mysql" on the database server, which fails
    Then the output contains "is not running"
    When the operator runs "kubectl get secret bots-edidb-secret -n edi"
    And the operator runs "kubectl create job --from=cronjob/bots-engine bots-engine-manual-$(date +%s) -n edi"
    Then the engine job finishes "Failed" within 3m
    When the operator runs "kubectl logs -n edi job/<latest-job-name> --tail=200"
    Then the output shows a database connection error
    And no Bots EDI container restarted
    When the database server is restarted
    Then every Bots EDI pod is Ready again within 30m
    And no Bots EDI container restarted
    When the operator runs "systemctl status mysql" on the database server
    Then the output contains "mariadbd"
