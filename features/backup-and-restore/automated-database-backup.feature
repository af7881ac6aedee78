@runbook:database-backup @destructive
Feature: Automated database backup
  The runbook's nightly backup CronJob, applied as written (its image mapped to the one deployed here):
  its Job ends Complete and leaves an empty backup file, because the script has no `set -e` and dumpdata
  fails (the pod has neither the database settings nor the Bots configuration). With those defects fixed
  (docs/runbook.md) the backup restores every row, and its retention line deletes the backups older
  than 30 days and keeps the rest.

  Scenario: As written it backs up nothing and says Complete; fixed, it restores and keeps 30 days
    Given the Bots EDI deployment is healthy
    And the engine has translated the sample file "ORDERS_good.edi" 2 times
    And the backup volume holds no backups
    When the operator runs:
      """
      # Set up CronJob for daily backups
      kubectl apply -f - <<EOF
      apiVersion: batch/v1
      kind: CronJob
      metadata:
        name: bots-db-backup
        namespace: edi
      spec:
        schedule: "0 2 * * *"  # 2 AM daily
        jobTemplate:
          spec:
            template:
              spec:
                restartPolicy: OnFailure
                containers:
                - name: backup
                  image: harbor.pminc.me/priv/bots-edi:latest
                  command:
                  - /bin/bash
                  - -c
                  - |
                    DATE=\$(date +%Y%m%d-%H%M%S)
                    python manage.py dumpdata --exclude auth.permission --exclude contenttypes > /backup/backup-\${DATE}.json
                    # Keep last 30 days
                    find /backup -name "backup-*.json" -mtime +30 -delete
                  volumeMounts:
                  - name: backup
                    mountPath: /backup
                volumes:
                - name: backup
                  persistentVolumeClaim:
                    claimName: bots-backup-pvc
      EOF
      """
    And the operator runs "kubectl create job --from=cronjob/bots-db-backup bots-db-backup-manual-$(date +%s) -n edi"
    Then the backup job finishes "Complete" within 3m
    And the newest backup file is empty
    When the operator runs "kubectl logs -n edi job/<latest-job-name>"
    Then the output says dumpdata failed
    Given the backup volume holds nightly backups: 2 older than 30 days and 3 newer
    And every table and every data file is fingerprinted
    When the operator runs:
      """
      kubectl apply -f - <<EOF
      apiVersion: batch/v1
      kind: CronJob
      metadata:
        name: bots-db-backup
        namespace: edi
      spec:
        schedule: "0 2 * * *"  # 2 AM daily
        concurrencyPolicy: Forbid
        jobTemplate:
          spec:
            template:
              spec:
                restartPolicy: OnFailure
                containers:
                - name: backup
                  image: harbor.pminc.me/priv/bots-edi:latest
                  command:
                  - /bin/bash
                  - -c
                  - |
                    set -euo pipefail
                    DATE=\$(date +%Y%m%d-%H%M%S)
                    python manage.py dumpdata --exclude auth.permission --exclude contenttypes > /backup/backup-\${DATE}.json.part
                    mv /backup/backup-\${DATE}.json.part /backup/backup-\${DATE}.json
                    # Keep last 30 days
                    find /backup -name "backup-*.json" -mtime +30 -delete
                  envFrom:
                  - configMapRef:
                      name: bots-config-env
                  - secretRef:
                      name: bots-edidb-secret
                  volumeMounts:
                  - name: backup
                    mountPath: /backup
                  - name: data
                    mountPath: /home/bots/.bots
                  - name: config
                    mountPath: /etc/bots
                    readOnly: true
                volumes:
                - name: backup
                  persistentVolumeClaim:
                    claimName: bots-backup-pvc
                - name: data
                  persistentVolumeClaim:
                    claimName: bots-edi-data-pvc
                - name: config
                  projected:
                    sources:
                    - configMap:
                        name: bots-config-ini
                    - configMap:
                        name: bots-config-settings
      EOF
      """
    And the operator runs "kubectl create job --from=cronjob/bots-db-backup bots-db-backup-manual-$(date +%s) -n edi"
    Then the backup job finishes "Complete" within 3m
    And the backups older than 30 days are deleted and the newer ones kept
    When the operator copies the newest backup file to "backup-restore.json"
    And the database is destroyed
    And the operator runs:
      """
      kubectl exec -n edi deployment/bots-webserver -- \
        python -m botsedi.initdb
      kubectl exec -i -n edi deployment/bots-webserver -- \
        python manage.py loaddata < backup-restore.json
      """
    Then every table's row count and checksum and every data file equal the originals, except what migrate rebuilds
