@runbook:update-container-image
Feature: Update container image
  A new release tag rolls out to both Deployments and to the engine's CronJob, and what the release
  changed is what the engine then does: the next engine Job runs the release's image (its image ID, not
  only its name), and its orders are what the release writes. The target says what its release v1.2.0 is
  (target.yaml `release:`); the reference's writes semicolon-separated orders: its grammars and mappings
  live in usersys on the data volume, and the image replaces them there when its own differ, so a release
  reaches the running deployment (docs/runbook.md).

  Scenario: The webserver, the job queue and the engine move to a new release
    Given the Bots EDI deployment is healthy
    And release v1.2.0 of the image is available to the cluster as "harbor.pminc.me/priv/bots-edi:v1.2.0"
    And the pods of deployment bots-webserver are noted
    When the operator runs:
      """
      kubectl set image deployment/bots-webserver \
        webserver=harbor.pminc.me/priv/bots-edi:v1.2.0 -n edi

      kubectl set image deployment/bots-jobqueue \
        jobqueue=harbor.pminc.me/priv/bots-edi:v1.2.0 -n edi

      kubectl set image cronjob/bots-engine \
        engine=harbor.pminc.me/priv/bots-edi:v1.2.0 -n edi

      kubectl rollout status deployment/bots-webserver -n edi
      """
    Then deployment bots-webserver runs only new pods, all Ready, within 3m
    And deployment bots-jobqueue has 1 Ready pods within 3m
    And every Bots EDI workload runs the image "harbor.pminc.me/priv/bots-edi:v1.2.0"
    When the engine translates the sample file "ORDERS_good.edi"
    Then the newest engine job ran release v1.2.0
    And the newest translated order has the fields release v1.2.0 writes
