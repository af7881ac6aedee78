@runbook:pvc-backup @runbook:restore-from-backup @destructive
Feature: Data volume snapshot, and the restore from it
  The runbook's manual snapshot of the data volume (PVC Backup) and its PVC Restore, with the cluster's CSI
  driver and snapshot controller (environments/kind/addons/csi-hostpath: a snapshot is an archive of the
  volume). The restore's claim is the runbook's manifest with production's storage class mapped to this
  cluster's (env.yaml substitutions) and the snapshot of today instead of 4 February. The runbook then switches
  only bots-webserver to the restored claim: the job queue and the engine CronJob, which mount the same claim,
  stay on the old volume, so a file that arrives through the webserver is never processed until they are
  moved too (docs/runbook.md moves all three).

  Scenario: The runbook's VolumeSnapshot, as written, is ready to use
    Given the Bots EDI deployment is healthy
    And the engine has translated the sample file "ORDERS_good.edi" 2 times
    And every table and every data file is fingerprinted
    When the operator runs:
      """
      kubectl apply -f - <<EOF
      apiVersion: snapshot.storage.k8s.io/v1
      kind: VolumeSnapshot
      metadata:
        name: bots-data-snapshot-$(date +%Y%m%d)
        namespace: edi
      spec:
        volumeSnapshotClassName: csi-snapclass
        source:
          persistentVolumeClaimName: bots-edi-data-pvc
      EOF
      """
    Then volume snapshot "bots-data-snapshot-%Y%m%d" is ready to use within 1m
    When the operator runs "kubectl get volumesnapshot,volumesnapshotcontent -n edi"
    Then the output lists volume snapshot "bots-data-snapshot-%Y%m%d" of claim bots-edi-data-pvc and its content, both ready to use

  Scenario: Database dump and snapshot, both destroyed, both restored; the webserver alone on the restored claim
    Given the Bots EDI deployment is healthy
    And the engine has translated the sample file "ORDERS_good.edi" 3 times
    And every table and every data file is fingerprinted
    And the pods of deployment bots-webserver are noted
    When the operator runs:
      """
      kubectl exec -n edi deployment/bots-webserver -- \
        mysqldump -h kona.db.pminc.me -u botsedi botsedi_data > backup-$(date +%Y%m%d).sql
      """
    And the operator runs:
      """
      kubectl apply -f - <<EOF
      apiVersion: snapshot.storage.k8s.io/v1
      kind: VolumeSnapshot
      metadata:
        name: bots-data-snapshot-$(date +%Y%m%d)
        namespace: edi
      spec:
        volumeSnapshotClassName: csi-snapclass
        source:
          persistentVolumeClaimName: bots-edi-data-pvc
      EOF
      """
    Then volume snapshot "bots-data-snapshot-%Y%m%d" is ready to use within 1m
    When the database and the data files are destroyed
    And the operator runs:
      """
      kubectl exec -i -n edi deployment/bots-webserver -- \
        mysql -h kona.db.pminc.me -u botsedi botsedi_data < backup-$(date +%Y%m%d).sql
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
        dataSource:
          name: bots-data-snapshot-$(date +%Y%m%d)
          kind: VolumeSnapshot
          apiGroup: snapshot.storage.k8s.io
        accessModes:
          - ReadWriteMany
        resources:
          requests:
            storage: 20Gi
        storageClassName: t1-shiva-nfs
      EOF
      """
    Then claim bots-edi-data-pvc-restored is Bound within 1m
    # Update deployments to use restored PVC: the runbook's one edit
    Given the operator's editor will change "claimName: bots-edi-data-pvc" to "claimName: bots-edi-data-pvc-restored"
    When the operator runs "kubectl edit deployment/bots-webserver -n edi"
    And the operator runs "kubectl rollout status deployment/bots-webserver -n edi"
    Then deployment bots-webserver runs only new pods, all Ready, within 3m
    And every pod of deployment bots-webserver mounts claim bots-edi-data-pvc-restored
    And every table's row count and checksum and every data file equal the originals
    And GET /health/ready answers 200
    When the operator runs "kubectl get pvc -n edi"
    Then the output lists claim bots-edi-data-pvc-restored Bound, ReadWriteMany, in storage class edirunbook-csi
    # where the runbook stops: the job queue and the engine still work on the old, emptied claim
    And the live objects have:
      | object                    | field                                             | expected                   |
      | deployment/bots-webserver | pod.volumes[data].persistentVolumeClaim.claimName | bots-edi-data-pvc-restored |
      | deployment/bots-jobqueue  | pod.volumes[data].persistentVolumeClaim.claimName | bots-edi-data-pvc          |
      | cronjob/bots-engine       | pod.volumes[data].persistentVolumeClaim.claimName | bots-edi-data-pvc          |
    Given the sample file "ORDERS_good.edi" is dropped in the inbound directory through the webserver
    When the operator runs "kubectl create job --from=cronjob/bots-engine bots-engine-manual-$(date +%s) -n edi"
    Then the engine job finishes "Complete" within 3m
    And the engine has not read the file: it still waits in the webserver's inbound directory
    # the whole procedure: the job queue and the engine moved to the restored claim as well
    When the operator runs "kubectl edit deployment/bots-jobqueue -n edi"
    And the operator runs "kubectl edit cronjob/bots-engine -n edi"
    And the operator runs "kubectl rollout status deployment/bots-jobqueue -n edi"
    Then deployment bots-jobqueue has 1 Ready pods within 3m
    And every pod of deployment bots-jobqueue mounts claim bots-edi-data-pvc-restored
    When the operator runs "kubectl create job --from=cronjob/bots-engine bots-engine-manual-$(date +%s) -n edi"
    Then the engine job finishes "Complete" within 3m
    And the engine translated the file from the webserver's inbound directory
