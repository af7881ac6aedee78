@runbook:pvc-backup @runbook:restore-from-backup @destructive
Feature: Velero backup of the namespace, and the restore that proves it
  The runbook's PVC Backup "Using Velero": `velero backup create` of namespace edi, then `describe` and `get`.
  Velero (environments/kind/addons/velero) stores the namespace's objects in an S3-compatible store inside the
  cluster and backs the claims up as CSI snapshots of the class labelled for it (csi-snapclass). A backup is
  proven only by a restore: the namespace is lost with everything in it, `velero restore create` brings it back
  (docs/runbook.md), and every table and every data file must equal what they were before the backup. The
  database is outside the namespace, as production's is; the restore must not need it changed.

  Scenario: The runbook's Velero backup, as written, completes; describe and get show it
    Given the Bots EDI deployment is healthy
    And the engine has translated the sample file "ORDERS_good.edi" 2 times
    When the operator runs "velero backup create bots-edi-backup --include-namespaces edi"
    Then velero backup bots-edi-backup is Completed within 3m
    When the operator runs "velero backup describe bots-edi-backup"
    Then the output describes backup bots-edi-backup Completed, of namespace edi, with CSI snapshots of claims bots-edi-data-pvc and bots-backup-pvc
    When the operator runs "velero backup get"
    Then the output lists backup bots-edi-backup Completed with 0 errors

  Scenario: The namespace lost with everything in it, restored from the Velero backup; nothing lost
    Given the Bots EDI deployment is healthy
    And the engine has translated the sample file "ORDERS_good.edi" 3 times
    And every table and every data file is fingerprinted
    When the operator runs "velero backup create bots-edi-backup --include-namespaces edi"
    Then velero backup bots-edi-backup is Completed within 3m
    When namespace edi is deleted with everything in it
    And the operator runs "velero restore create bots-edi-restore --from-backup bots-edi-backup"
    Then velero restore bots-edi-restore is Completed within 5m
    When the operator runs "velero restore describe bots-edi-restore"
    Then the output describes restore bots-edi-restore Completed, from backup bots-edi-backup, with no errors
    When the operator runs "kubectl get pvc -n edi"
    Then the output lists claim bots-edi-data-pvc Bound, ReadWriteMany, in storage class edirunbook-csi
    When the operator runs "kubectl rollout status deployment/bots-webserver -n edi"
    Then deployment bots-webserver has 2 Ready pods within 3m
    And deployment bots-jobqueue has 1 Ready pods within 3m
    And every table's row count and checksum and every data file equal the originals
    And GET /health/ready answers 200 within 1m
    Given the sample file "ORDERS_good.edi" is dropped in the inbound directory through the webserver
    When the operator runs "kubectl create job --from=cronjob/bots-engine bots-engine-manual-$(date +%s) -n edi"
    Then the engine job finishes "Complete" within 3m
    And the engine translated the file from the webserver's inbound directory
