@runbook:restore-from-backup @destructive @slow
Feature: Data volume restored to a new claim from the tar backup
  The data volume restore without a snapshot: the data volume's backup (the tar of Data Volume Backup)
  restored into a new, empty claim bots-edi-data-pvc-restored of the storage class, then every workload
  switched to it with `kubectl edit` (docs/runbook.md). The data goes into the claim first, through a pod that
  mounts it, as a snapshot would have it there before the switch: no workload ever runs on an empty data
  volume. The operations runbook's own restore, from a snapshot and with only the webserver switched, is
  data-volume-snapshot.feature.

  Scenario: The backup restored into a new claim; the webserver, the job queue and the engine moved to it
    Given the Bots EDI deployment is healthy
    And the engine has translated the sample file "ORDERS_good.edi" 3 times
    And every table and every data file is fingerprinted
    And the pods of deployment bots-webserver are noted
    When the operator runs:
      """
      kubectl exec -n edi deployment/bots-webserver -- \
        tar -C /home/bots/.bots --exclude=botssys/logging -czf - botssys > bots-data-$(date +%Y%m%d).tar.gz
      """
    And the operator runs:
      """
      kubectl apply -f - <<EOF
      apiVersion: v1
      kind: PersistentVolumeClaim
      metadata:
        name: bots-edi-data-pvc-restored
        namespace: edi
      spec:
        accessModes:
          - ReadWriteMany
        resources:
          requests:
            storage: 20Gi
        storageClassName: t1-shiva-nfs
      EOF
      """
    Then claim bots-edi-data-pvc-restored is Bound within 1m
    When the operator runs:
      """
      kubectl apply -f - <<EOF
      apiVersion: v1
      kind: Pod
      metadata:
        name: bots-data-restore
        namespace: edi
      spec:
        restartPolicy: Never
        containers:
        - name: restore
          image: harbor.pminc.me/priv/bots-edi:latest
          # tini passes the delete's SIGTERM on to sleep
          command: ["tini", "--", "sleep", "3600"]
          securityContext:
            runAsNonRoot: true
            allowPrivilegeEscalation: false
          volumeMounts:
          - name: data
            mountPath: /home/bots/.bots
        volumes:
        - name: data
          persistentVolumeClaim:
            claimName: bots-edi-data-pvc-restored
      EOF
      kubectl wait --for=condition=Ready pod/bots-data-restore -n edi --timeout=2m
      kubectl exec -i -n edi bots-data-restore -- \
        tar -C /home/bots/.bots -xzf - < bots-data-$(date +%Y%m%d).tar.gz
      kubectl delete pod bots-data-restore -n edi
      """
    # every workload moved to the restored claim
    Given the operator's editor will change "claimName: bots-edi-data-pvc" to "claimName: bots-edi-data-pvc-restored"
    When the operator runs "kubectl edit deployment/bots-webserver -n edi"
    And the operator runs "kubectl edit deployment/bots-jobqueue -n edi"
    And the operator runs "kubectl edit cronjob/bots-engine -n edi"
    And the operator runs "kubectl rollout status deployment/bots-webserver -n edi"
    And the operator runs "kubectl rollout status deployment/bots-jobqueue -n edi"
    Then deployment bots-webserver runs only new pods, all Ready, within 3m
    And every pod of deployment bots-webserver mounts claim bots-edi-data-pvc-restored
    And every pod of deployment bots-jobqueue mounts claim bots-edi-data-pvc-restored
    And the live objects have:
      | object              | field                                             | expected                   |
      | cronjob/bots-engine | pod.volumes[data].persistentVolumeClaim.claimName | bots-edi-data-pvc-restored |
    And every table's row count and checksum and every data file equal the originals
    And GET /health/ready answers 200
    Given the sample file "ORDERS_good.edi" is dropped in the inbound directory through the webserver
    When the operator runs "kubectl create job --from=cronjob/bots-engine bots-engine-manual-$(date +%s) -n edi"
    Then the engine job finishes "Complete" within 3m
    And the engine translated the file from the webserver's inbound directory
