@runbook:planned-maintenance-window @destructive @slow
Feature: Planned maintenance window
  The runbook's three phases with its own commands where it has them, for one change: release v1.2.0 of
  the image (which writes orders separated by `;`). Preparation takes the backups and notes what the
  rollback needs; the change is made and checked with the read-only checks; afterwards the engine
  processes an order with the new release. Then the rollback plan is carried out: the Deployments rolled
  back with `kubectl rollout undo`, the engine CronJob (which keeps no revisions) set back to the image
  noted before, and the engine writes the old format again. Last, the backup of the preparation is proven:
  restored over the data the window left, it brings back every table and file as they were before it.

  Scenario: Release v1.2.0 installed in a window, checked, and rolled back by the plan
    # Preparation (day before)
    # 1. Notify users: not a command
    Given the Bots EDI deployment is healthy
    And the engine has translated the sample file "ORDERS_good.edi" 2 times
    And every table and every data file is fingerprinted
    And the images every Bots EDI workload runs are noted
    And release v1.2.0 of the image is available to the cluster as "harbor.pminc.me/priv/bots-edi:v1.2.0"
    # 2. Schedule backup: the database and the data volume, as Database Backup and Data Volume Backup take them
    When the operator runs:
      """
      kubectl exec -n edi deployment/bots-webserver -- \
        mysqldump -h kona.db.pminc.me -u botsedi botsedi_data \
        > backup-$(date +%Y%m%d).sql
      kubectl exec -n edi deployment/bots-webserver -- \
        tar -C /home/bots/.bots --exclude=botssys/logging -czf - botssys > bots-data-$(date +%Y%m%d).tar.gz
      """
    # 3. Prepare rollback plan: the Deployments keep revisions (rollout undo); the CronJob does not
    And the operator runs:
      """
      kubectl get cronjob/bots-engine -n edi \
        -o jsonpath='{.spec.jobTemplate.spec.template.spec.containers[0].image}' > engine-image-before.txt
      """
    # 4. Review change procedure: Update Container Image
    # During Maintenance
    # 1. Put webserver in maintenance mode (optional): Bots has none; its RollingUpdate keeps serving
    Given the pods of deployment bots-webserver are noted
    # 2. Perform changes
    When the operator runs:
      """
      kubectl set image deployment/bots-webserver \
        webserver=harbor.pminc.me/priv/bots-edi:v1.2.0 -n edi

      kubectl set image deployment/bots-jobqueue \
        jobqueue=harbor.pminc.me/priv/bots-edi:v1.2.0 -n edi

      kubectl set image cronjob/bots-engine \
        engine=harbor.pminc.me/priv/bots-edi:v1.2.0 -n edi

      kubectl rollout status deployment/bots-webserver -n edi
      kubectl rollout status deployment/bots-jobqueue -n edi
      """
    Then deployment bots-webserver runs only new pods, all Ready, within 3m
    And deployment bots-jobqueue has 1 Ready pods within 3m
    And every Bots EDI workload runs the image "harbor.pminc.me/priv/bots-edi:v1.2.0"
    # 3. Run tests: the read-only checks
    When the operator runs "kubectl get pods -n edi"
    Then every listed pod is Running or Completed
    When the operator runs:
      """
      kubectl exec -n edi deployment/bots-webserver -- \
        curl -f http://localhost:8080/health/live
      """
    Then the output is a health report saying ok
    When the operator runs:
      """
      kubectl exec -n edi deployment/bots-webserver -- \
        curl -f http://localhost:8080/health/ready
      """
    Then the output is a health report saying ok, its database check passing
    # 4. Monitor for issues
    # Post-Maintenance
    # 1. Verify all services healthy: every pod Ready and the health endpoints ok, above
    # 2. Check recent transactions processed successfully: an order the new release translates
    Given the sample file "ORDERS_good.edi" is in the inbound directory
    When the operator runs "kubectl create job --from=cronjob/bots-engine bots-engine-manual-$(date +%s) -n edi"
    Then the engine job finishes "Complete" within 3m
    And the newest engine job ran release v1.2.0
    And the newest translated order has the fields release v1.2.0 writes
    # 3. Monitor for 30 minutes, 4. Send all-clear notification: not commands
    # The rollback plan, carried out
    Given the pods of deployment bots-webserver are noted
    When the operator runs:
      """
      kubectl rollout undo deployment/bots-webserver -n edi
      kubectl rollout undo deployment/bots-jobqueue -n edi
      kubectl set image cronjob/bots-engine engine=$(cat engine-image-before.txt) -n edi
      kubectl rollout status deployment/bots-webserver -n edi
      kubectl rollout status deployment/bots-jobqueue -n edi
      """
    Then deployment bots-webserver runs only new pods, all Ready, within 3m
    And deployment bots-jobqueue has 1 Ready pods within 3m
    And every Bots EDI workload and every pod of it runs the noted images again
    Given the sample file "ORDERS_good.edi" is in the inbound directory
    When the operator runs "kubectl create job --from=cronjob/bots-engine bots-engine-manual-$(date +%s) -n edi"
    Then the engine job finishes "Complete" within 3m
    And the newest translated order has fields separated by ","
    # The backup of the preparation restores the deployment as it was before the window
    When the database and the data files are destroyed
    And the operator runs:
      """
      kubectl exec -i -n edi deployment/bots-webserver -- \
        mysql -h kona.db.pminc.me -u botsedi botsedi_data \
        < backup-$(date +%Y%m%d).sql
      kubectl exec -i -n edi deployment/bots-webserver -- \
        tar -C /home/bots/.bots -xzf - < bots-data-$(date +%Y%m%d).tar.gz
      """
    Then every table's row count and checksum and every data file equal the originals
    And GET /health/ready answers 200 within 1m
