@runbook:view-logs @readonly
Feature: View logs
  The runbook's log commands select the right pods and show what they printed; `-f` keeps following
  until the operator stops it (Ctrl-C).

  Scenario: Logs of every component, of one pod, and of the latest engine job
    Given the Bots EDI deployment is healthy
    And the sample file "ORDERS_good.edi" is in the inbound directory
    When the operator runs "kubectl create job --from=cronjob/bots-engine bots-engine-manual-$(date +%s) -n edi"
    Then the engine job finishes "Complete" within 3m
    When the operator runs "kubectl logs -n edi -l app=bots-edi --since=1h --tail=500"
    Then the output is not empty
    When the operator runs "kubectl logs -n edi -l component=jobqueue --tail=100"
    Then the output is not empty
    When the operator runs "kubectl logs -n edi -l app=bots-edi,job-name --tail=200"
    Then the output is not empty
    Given a pod of deployment bots-webserver is noted as <pod-name>
    When the operator runs "kubectl logs -n edi <pod-name> --tail=100"
    Then the output is not empty
    # the webserver's startup line: `Bots webserver serving at port: "8080".` (Bots 3.3), `Serving at port: "8080".` (4.0)
    When the operator follows "kubectl logs -n edi <pod-name> --tail=100 -f" until it shows "erving at port:"
    And the operator follows "kubectl logs -n edi -l component=webserver -f" until it shows "erving at port:"
