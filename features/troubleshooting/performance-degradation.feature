@runbook:performance-degradation
Feature: Performance degradation
  The runbook's investigation: the pods' resource usage from metrics-server, the database's running queries
  through dbshell, and a write test on the data volume. Without -it, kubectl exec does not pass the terminal to dbshell: it ends at once, and the query the
  operator types lands in their own shell. The write test leaves 100 MB on the production data volume.

  @readonly
  Scenario: kubectl top shows every Bots EDI pod's CPU and memory
    Given the Bots EDI deployment is healthy
    And metrics-server has figures for every running Bots EDI pod within 2m
    When the operator runs "kubectl top pods -n edi"
    Then the output lists every running Bots EDI pod with its CPU and memory

  @readonly
  Scenario: The runbook's dbshell command, as written, ends before the query can be typed
    Given the Bots EDI deployment is healthy
    When the operator runs "kubectl exec -n edi deployment/bots-webserver -- python manage.py dbshell" in a terminal and types:
      | typed                  | shows                         |
      | SHOW FULL PROCESSLIST; | bash: SHOW: command not found |

  @readonly
  Scenario: With -it, dbshell shows the processlist, every connection of the application's user in it
    Given the Bots EDI deployment is healthy
    And the suite holds a database connection of its own
    When the operator runs "kubectl exec -it -n edi deployment/bots-webserver -- python manage.py dbshell" in a terminal and types:
      | typed                  | shows                 |
      | SHOW FULL PROCESSLIST; | SHOW FULL PROCESSLIST |
      | exit                   | Bye                   |
    Then the processlist shown lists every connection information_schema.processlist lists

  Scenario: The write test reports its rate, leaves 100 MB on the data volume, and is removed
    Given the Bots EDI deployment is healthy
    When the operator runs:
      """
      kubectl exec -n edi deployment/bots-webserver -- \
        dd if=/dev/zero of=/home/bots/.bots/test bs=1M count=100
      """
    Then the output reports 104857600 bytes copied and a rate
    And the data volume keeps a 100 MiB file "/home/bots/.bots/test"
    When the operator runs "kubectl exec -n edi deployment/bots-webserver -- df -h /home/bots/.bots"
    Then the data volume is at least 39% full
    When the operator runs "kubectl exec -n edi deployment/bots-webserver -- rm /home/bots/.bots/test"
    Then the data volume has no file "/home/bots/.bots/test"
