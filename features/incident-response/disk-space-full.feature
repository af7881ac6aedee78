@runbook:disk-space-full @destructive
Feature: Disk space full
  The data volume fills the way Bots fills it: each day's engine run leaves its files under botssys/data,
  and the days pile up until writes fail with a real ENOSPC. The runbook's checks find the volume full and
  where. Its cleanup deletes `*.old` files, which Bots never writes: it frees nothing. Bots' own cleanup
  (maxdays, 30) frees the days older than 30 and keeps the rest, and the engine works again.

  Scenario: Engine-made data fills the volume; the runbook's cleanup frees nothing, Bots' own cleanup does
    Given the Bots EDI deployment is healthy
    And the engine has translated a day's orders: 3 large orders of 9000 lines
    And the data volume has filled up with the data of the days before
    Then writing to the data volume fails with No space left on device
    When the operator runs "kubectl exec -n edi deployment/bots-webserver -- df -h"
    Then the data volume shows 100% used
    When the operator runs "kubectl exec -n edi deployment/bots-webserver -- du -sh /home/bots/.bots/* | sort -hr | head -20"
    Then the output contains "cannot access '/home/bots/.bots/*'"
    When the operator runs "kubectl exec -n edi deployment/bots-webserver -- sh -c 'du -sh /home/bots/.bots/*' | sort -hr | head -20"
    Then the largest entries listed include the filled data directory
    When the operator runs:
      """
      kubectl exec -n edi deployment/bots-webserver -- \
        find /home/bots/.bots/botssys/data -name "*.old" -mtime +30 -delete
      """
    Then the data volume is still full
    When the operator runs:
      """
      kubectl exec -n edi deployment/bots-webserver -- \
        bots-engine -c/home/bots/.bots/env/production/config --cleanup
      """
    Then the data volume has room again
    And the data of the last 30 days is kept and the older days' is gone
    Given the sample file "ORDERS_good.edi" is in the inbound directory
    When the operator runs "kubectl create job --from=cronjob/bots-engine bots-engine-manual-$(date +%s) -n edi"
    Then the engine job finishes "Complete" within 3m
    And the database holds at least 1 done transactions within 1m

  Scenario: The full volume expanded online: the filesystem grows in the running pods and writes succeed again
    # The runbook raises 20Gi to 30Gi; this environment's data volume is 256Mi (env.yaml changes), raised by the
    # same half to 384Mi.
    Given the Bots EDI deployment is healthy
    And the container restart counts are noted
    And the pods of deployment bots-webserver are noted
    And the engine has translated a day's orders: 3 large orders of 9000 lines
    And the data volume has filled up with the data of the days before
    Then writing to the data volume fails with No space left on device
    Given the operator's editor will change "storage: 256Mi" to "storage: 384Mi"
    When the operator runs "kubectl edit pvc bots-edi-data-pvc -n edi"
    Then claim bots-edi-data-pvc has a capacity of 384Mi within 1m
    When the operator runs "kubectl exec -n edi deployment/bots-webserver -- df -h"
    Then the output shows the data volume's filesystem at 384M
    And the data volume is less than 70% full
    And a 32 MiB file can be written to the data volume and removed
    And no Bots EDI container restarted
    And deployment bots-webserver runs the noted pods
    When the operator runs "kubectl get pvc -n edi"
    Then the output lists claim bots-edi-data-pvc Bound, ReadWriteMany, in storage class edirunbook-csi
