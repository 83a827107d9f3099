{{/* Names, labels and the pieces every workload shares. */}}

{{- define "velopipe.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "velopipe.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* <fullname>-<component>, e.g. velopipe-stream. Call with (list $ "stream"). */}}
{{- define "velopipe.component" -}}
{{- $root := index . 0 -}}
{{- printf "%s-%s" (include "velopipe.fullname" $root | trunc 50 | trimSuffix "-") (index . 1) -}}
{{- end -}}

{{- define "velopipe.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The Kubernetes recommended labels (app.kubernetes.io/*). Call with (list $ "stream"). */}}
{{- define "velopipe.labels" -}}
{{- $root := index . 0 -}}
helm.sh/chart: {{ include "velopipe.chart" $root }}
{{ include "velopipe.selectorLabels" . }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/part-of: velopipe
{{- with $root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels: stable across upgrades. Call with (list $ "stream"). */}}
{{- define "velopipe.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "velopipe.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* Labels selecting every pod of the release (NetworkPolicies). */}}
{{- define "velopipe.instanceLabels" -}}
app.kubernetes.io/name: {{ include "velopipe.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "velopipe.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "velopipe.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "velopipe.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The Secret the pods read, or "" when there is none. */}}
{{- define "velopipe.secretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else if or .Values.secrets.jcdecauxApiKey .Values.secrets.warehousePassword .Values.secrets.consulToken -}}
{{- include "velopipe.component" (list . "secrets") -}}
{{- end -}}
{{- end -}}

{{/* True ("true") when the warehouse URL names a server database. */}}
{{- define "velopipe.warehouseServer" -}}
{{- if not (hasPrefix "sqlite:" .Values.warehouse.url) -}}true{{- end -}}
{{- end -}}

{{/* True when the pods get a Consul token file. */}}
{{- define "velopipe.consulToken" -}}
{{- if and .Values.consul.enabled .Values.consul.aclToken (include "velopipe.secretName" .) -}}true{{- end -}}
{{- end -}}

{{/* Pod-level settings every workload shares. */}}
{{- define "velopipe.podCommon" -}}
{{- $root := index . 0 -}}
{{- $w := index . 1 -}}
serviceAccountName: {{ include "velopipe.serviceAccountName" $root }}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $w.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $w.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $w.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Pod annotations: config checksum so a changed ConfigMap rolls the pods. */}}
{{- define "velopipe.podAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Environment every service shares: the ConfigMap, plus the Consul
     address of the node's agent and the token file. Call with (list $ "ingest"). */}}
{{- define "velopipe.env" -}}
{{- $root := index . 0 -}}
{{- $c := index . 1 -}}
{{- if and $root.Values.consul.enabled $root.Values.consul.hostAgent (not $root.Values.consul.address) }}
- name: HOST_IP
  valueFrom:
    fieldRef:
      fieldPath: status.hostIP
- name: VELO_CONSUL_ADDR
  value: "http://$(HOST_IP):{{ $root.Values.consul.port }}"
{{- end }}
{{- if $root.Values.consul.enabled }}
- name: VELO_CONSUL_ADVERTISE
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
{{- end }}
{{- if include "velopipe.consulToken" $root }}
- name: CONSUL_HTTP_TOKEN_FILE
  value: /var/run/secrets/velopipe/consul-token
{{- end }}
{{- range $k, $v := (index $root.Values $c).env }}
- name: {{ $k }}
  value: {{ $v | toString | quote }}
{{- end }}
{{- end -}}

{{/* The secret volume of a workload: the keys it reads, as files.
     Call with (list $ "warehouse"). */}}
{{- define "velopipe.secretItems" -}}
{{- $root := index . 0 -}}
{{- $c := index . 1 -}}
{{- if and (eq $c "warehouse") (include "velopipe.warehouseServer" $root) (include "velopipe.secretName" $root) }}
- key: {{ $root.Values.secrets.keys.warehousePassword }}
  path: warehouse-password
{{- end }}
{{- if include "velopipe.consulToken" $root }}
- key: {{ $root.Values.secrets.keys.consulToken }}
  path: consul-token
{{- end }}
{{- end -}}

{{- define "velopipe.volumes" -}}
{{- $root := index . 0 -}}
{{- $items := include "velopipe.secretItems" . -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if $items }}
- name: secrets
  secret:
    secretName: {{ include "velopipe.secretName" $root }}
    defaultMode: 0440
    items:
      {{- $items | nindent 6 }}
{{- end }}
{{- end -}}

{{- define "velopipe.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if include "velopipe.secretItems" . }}
- name: secrets
  mountPath: /var/run/secrets/velopipe
  readOnly: true
{{- end }}
{{- end -}}

{{/* HTTP probes on a port name. Call with (dict "port" "admin"). */}}
{{- define "velopipe.probes" -}}
livenessProbe:
  httpGet: {path: /healthz, port: {{ .port }}}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet: {path: /readyz, port: {{ .port }}}
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 3
{{- end -}}

{{- define "velopipe.topologySpread" -}}
{{- $root := index . 0 -}}
{{- if $root.Values.topologySpread.enabled }}
topologySpreadConstraints:
  - maxSkew: {{ $root.Values.topologySpread.maxSkew }}
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: {{ $root.Values.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "velopipe.selectorLabels" . | nindent 8 }}
  - maxSkew: {{ $root.Values.topologySpread.maxSkew }}
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "velopipe.selectorLabels" . | nindent 8 }}
{{- end }}
{{- end -}}
