@runbook:alerts
Feature: Alerts
  The runbook's six alerts are the rules of environments/base/monitoring/bots-edi-alerts.yml, evaluated by the
  cluster's Prometheus every 15 s; Alertmanager pages on-call for the critical ones and tells the chat channel of
  the warnings (its receivers here are webhooks to a recorder). Each alert is caused for real and followed:
  pending from the evaluation that first finds its condition, firing once that has held for its `for:`, its
  notification at the runbook's receiver and at no other, resolved after the fix.

  @readonly
  Scenario: One rule per runbook alert, loaded and healthy, each on metrics the cluster has
    Given Prometheus has loaded the deployment's alert rules
    Then each runbook alert has its rule, with the runbook's severity:
      | runbook alert              | rule                    | severity |
      | All webserver pods down    | BotsWebserverDown       | critical |
      | Database unreachable       | BotsDatabaseUnreachable | critical |
      | PVC >90% full              | BotsVolumeAlmostFull    | critical |
      | Error rate >5%             | BotsHighErrorRate       | warning  |
      | Processing time >2 minutes | BotsSlowProcessing      | warning  |
      | Engine job failed          | BotsEngineRunFailed     | warning  |
    And no rule refers to a metric the cluster does not have

  @destructive
  Scenario: Every webserver pod gone pages on-call; scaled back, the alert resolves
    Given the Bots EDI deployment is healthy
    And Prometheus scrapes every webserver pod by its annotations
    And the alert "BotsWebserverDown" is not active
    When every webserver pod goes away: deployment bots-webserver scaled to 0
    Then the alert "BotsWebserverDown" fires within its for: window plus two scrape intervals of becoming pending
    And its notification reaches the "on-call" receiver and no other
    When the operator runs "kubectl scale deployment/bots-webserver -n edi --replicas=2"
    Then the alert "BotsWebserverDown" resolves within 2m and the "on-call" receiver gets the resolved notification

  @destructive
  Scenario: The database unreachable pages on-call; started again, the alert resolves
    Given the Bots EDI deployment is healthy
    And Prometheus scrapes every webserver pod by its annotations
    And the alert "BotsDatabaseUnreachable" is not active
    When the database server goes down
    Then the alert "BotsDatabaseUnreachable" fires within its for: window plus two scrape intervals of becoming pending
    And its notification reaches the "on-call" receiver and no other
    And the alert "BotsWebserverDown" is not active
    When the database server is restarted
    Then the alert "BotsDatabaseUnreachable" resolves within 2m and the "on-call" receiver gets the resolved notification

  @destructive
  Scenario: The data volume filled past 90% pages on-call; Bots' cleanup frees it and the alert resolves
    Given the Bots EDI deployment is healthy
    And the engine has translated a day's orders: 3 large orders of 9000 lines
    And the alert "BotsVolumeAlmostFull" is not active
    And the data volume has filled up with the data of the days before
    Then the alert "BotsVolumeAlmostFull" fires within its for: window plus two scrape intervals of becoming pending
    And its notification reaches the "on-call" receiver and no other
    When the operator runs:
      """
      kubectl exec -n edi deployment/bots-webserver -- \
        bots-engine -c/home/bots/.bots/env/production/config --cleanup
      """
    And the operator runs "kubectl exec -n edi deployment/bots-webserver -- df -h"
    Then the data volume is less than 90% full
    And the alert "BotsVolumeAlmostFull" resolves within 4m and the "on-call" receiver gets the resolved notification

  @destructive
  Scenario: A stalled run and then a burst of bad files: each warning fires on its own cause, to the chat channel
    Given the Bots EDI deployment is healthy
    And the engine has translated the sample file "ORDERS_good.edi" 1 times
    And the alert "BotsSlowProcessing" is not active
    When a backup's global read lock stalls an engine run of 3 large orders for 2m10s
    Then the alert "BotsSlowProcessing" fires within its for: window plus two scrape intervals of becoming pending
    And its notification reaches the "chat" receiver and no other
    And the alert "BotsHighErrorRate" is not active
    And the alert "BotsEngineRunFailed" is not active
    Given the alert "BotsHighErrorRate" is not active
    And the alert "BotsEngineRunFailed" is not active
    When the engine runs once on 7 good orders and 3 malformed orders
    Then the alert "BotsEngineRunFailed" fires within its for: window plus two scrape intervals of becoming pending
    And its notification reaches the "chat" receiver and no other
    And the alert "BotsHighErrorRate" fires within its for: window plus two scrape intervals of becoming pending
    And its notification reaches the "chat" receiver and no other
    When the engine translates the sample file "ORDERS_good.edi"
    Then the alert "BotsEngineRunFailed" resolves within 1m and the "chat" receiver gets the resolved notification
    And the alert "BotsHighErrorRate" resolves within 6m and the "chat" receiver gets the resolved notification
    And the alert "BotsSlowProcessing" resolves within 6m and the "chat" receiver gets the resolved notification
