@runbook:certificate-renewal @destructive
Feature: Certificate renewal
  The Ingress's TLS certificate is cert-manager's Certificate bots-edi-ingress, kept in the Secret bots-edi-tls
  and signed by the ClusterIssuer letsencrypt-prod (on kind, a CA issuer with a CA the suite makes, so the
  chain is real and checked). A renewal counts only when the ingress itself serves the new certificate, read
  from a verified TLS handshake, not from the Secret; HTTPS requests go through the ingress all along.
  The runbook's forced renewal deletes the Secret first: the annotate finds the Certificate and a new
  certificate is served, but until it is issued the Ingress has no certificate and the site is down. Its
  "Check certificate expiry" lists no expiry date. docs/runbook.md renews by asking cert-manager to issue
  again (the Issuing condition, as cmctl renew sets it), with the Secret in place all along: no request fails.

  Scenario: The runbook's forced renewal: a new certificate, after an outage while the Secret is gone
    Given the Bots EDI deployment is healthy
    And certificate bots-edi-ingress is Ready within 2m
    And the certificate the ingress serves for the site is noted
    And requests to /health/ping are sent through the ingress continuously
    When the operator runs "kubectl get certificate -n edi"
    Then the output shows certificate bots-edi-ingress Ready
    And the output shows no expiry date for certificate bots-edi-ingress
    When the operator runs:
      """
      # Force renewal (cert-manager)
      kubectl delete secret bots-edi-tls -n edi
      kubectl annotate certificate bots-edi-ingress -n edi \
        cert-manager.io/issue-temporary-certificate="true"
      """
    Then the output contains "certificate.cert-manager.io/bots-edi-ingress annotated"
    And certificate bots-edi-ingress is Ready within 2m
    And the ingress serves a new certificate for the site within 2m
    When the operator runs "kubectl get certificate -n edi"
    Then the output shows certificate bots-edi-ingress Ready
    And some requests to /health/ping failed

  Scenario: The verified renewal: a new certificate served without one failed request
    Given the Bots EDI deployment is healthy
    And certificate bots-edi-ingress is Ready within 2m
    And the certificate the ingress serves for the site is noted
    And requests to /health/ping are sent through the ingress continuously
    When the operator runs:
      """
      # Check certificate expiry: NOT_AFTER, and RENEW_AT when cert-manager renews it by itself
      kubectl get certificate -n edi -o custom-columns='NAME:.metadata.name,READY:.status.conditions[?(@.type=="Ready")].status,NOT_AFTER:.status.notAfter,RENEW_AT:.status.renewalTime'
      """
    Then the output shows certificate bots-edi-ingress Ready
    And the output shows the expiry date of certificate bots-edi-ingress
    When the operator runs:
      """
      # Force renewal: cert-manager issues a new certificate into the same Secret (what `cmctl renew` does)
      kubectl patch certificate bots-edi-ingress -n edi --subresource=status --type=json \
        -p '[{"op":"add","path":"/status/conditions/-","value":{"type":"Issuing","status":"True","reason":"ManuallyTriggered","message":"Renewal requested by the operator"}}]'
      """
    Then the ingress serves a new certificate for the site within 2m
    And certificate bots-edi-ingress is Ready within 2m
    And no request to /health/ping failed
