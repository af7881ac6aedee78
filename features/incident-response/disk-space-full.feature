@runbook:disk-space-full @destructive
Feature: Disk space full
  The data volume is a size-limited volume: fill it until writes really fail, then follow the runbook:
  check usage, find what is large, delete old files, and see the engine work again.

  Scenario: Old files fill the data volume; the runbook's cleanup frees it
    Given the Bots EDI deployment is healthy
    And old archived files have filled the data volume
    Then writing to the data volume fails with No space left on device
    When the operator runs "kubectl exec -n edi deployment/bots-webserver -- df -h"
    Then the data volume shows 100% used
    When the operator runs "kubectl exec -n edi deployment/bots-webserver -- sh -c 'du -sh /home/bots/.bots/*' | sort -hr | head -20"
    Then the largest entries listed include the filled data directory
    When the operator runs:
      """
      kubectl exec -n edi deployment/bots-webserver -- \
        find /home/bots/.bots/botssys/data -name "*.old" -mtime +30 -delete
      """
    Then the data volume has room again
    Given the sample file "ORDERS_good.edi" is in the inbound directory
    When the operator runs "kubectl create job --from=cronjob/bots-engine bots-engine-manual-$(date +%s) -n edi"
    Then the engine job finishes "Complete" within 3m
    And the database holds at least 1 done transactions within 1m
