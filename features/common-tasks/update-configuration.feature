@runbook:update-configuration
Feature: Update configuration
  bots.ini comes from the ConfigMap bots-config-ini (a fixed name, so `kubectl edit` finds it); pods
  read it when they start, hence the restarts.

  Scenario: An edited bots.ini reaches every pod after the restarts
    Given the Bots EDI deployment is healthy
    And the pods of deployment bots-webserver are noted
    And the pods of deployment bots-jobqueue are noted
    And the operator's editor will change "environment_text =" to "environment_text = GAME DAY"
    When the operator runs "kubectl edit configmap bots-config-ini -n edi"
    And the operator runs:
      """
      kubectl rollout restart deployment/bots-webserver -n edi
      kubectl rollout restart deployment/bots-jobqueue -n edi
      """
    Then deployment bots-webserver runs only new pods, all Ready, within 3m
    And deployment bots-jobqueue runs only new pods, all Ready, within 3m
    And every pod of deployment bots-webserver reads "environment_text = GAME DAY" from its bots.ini
    And every pod of deployment bots-jobqueue reads "environment_text = GAME DAY" from its bots.ini
