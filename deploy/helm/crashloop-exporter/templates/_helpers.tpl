{{/* Names, labels and the pod template shared by the Deployment and the StatefulSet. */}}

{{- define "crashloop-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <release>, or <release>-<name> when the release name does not contain the name already. */}}
{{- define "crashloop-exporter.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := include "crashloop-exporter.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "crashloop-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "crashloop-exporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Only labels that never change: Deployment and StatefulSet selectors are immutable. */}}
{{- define "crashloop-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "crashloop-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "crashloop-exporter.labels" -}}
{{ include "crashloop-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: exporter
app.kubernetes.io/part-of: crashloop-exporter
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "crashloop-exporter.sharded" -}}
{{- if gt (int .Values.shards) 1 }}true{{ end }}
{{- end }}

{{/* The object name of a generated file: fullname plus what the file's stem adds to the project
name (crashloop-overview.json -> <fullname>-overview), as deploygen names the kustomize objects. */}}
{{- define "crashloop-exporter.fileObjectName" -}}
{{- $stem := .stem | trimPrefix "crashloop-exporter" | trimPrefix "crashloop" | trimPrefix "-" }}
{{- $parts := list (include "crashloop-exporter.fullname" .root) }}
{{- if $stem }}{{ $parts = append $parts $stem }}{{ end }}
{{- if .suffix }}{{ $parts = append $parts .suffix }}{{ end }}
{{- join "-" $parts | trunc 253 | trimSuffix "-" }}
{{- end }}

{{/* `serve` and its flags: the base's, then what the values switch, then the shard flags last. */}}
{{- define "crashloop-exporter.args" -}}
- serve
- --listen-address=0.0.0.0:10079
- --log-format={{ .Values.logFormat }}
{{- if not .Values.logs.enabled }}
- --no-logs
{{- end }}
{{- if not .Values.dependencies.enabled }}
- --no-dependencies
{{- end }}
{{- with .Values.namespaces }}
- --namespaces={{ join "," . }}
{{- end }}
{{- with .Values.excludeNamespaces }}
- --exclude-namespaces={{ join "," . }}
{{- end }}
{{- with .Values.labelSelector }}
- {{ printf "--label-selector=%s" . | quote }}
{{- end }}
{{- if not .Values.causesEndpoint }}
- --no-causes-endpoint
{{- end }}
{{- with .Values.logLevel }}
- --log-level={{ . }}
{{- end }}
{{- range .Values.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- if include "crashloop-exporter.sharded" . }}
- --shard=$(POD_INDEX)
- --total-shards={{ int .Values.shards }}
{{- end }}
{{- end }}

{{- define "crashloop-exporter.podTemplate" -}}
metadata:
  labels:
    {{- include "crashloop-exporter.labels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.podAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  serviceAccountName: {{ include "crashloop-exporter.serviceAccountName" . }}
  # The ServiceAccount turns token mounting off; this pod is the one that needs it.
  automountServiceAccountToken: true
  enableServiceLinks: false
  terminationGracePeriodSeconds: 30
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  containers:
  - name: exporter
    image: {{ printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) | quote }}
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    # `args` replaces the image's CMD, so it starts with the subcommand.
    args:
      {{- include "crashloop-exporter.args" . | nindent 6 }}
    {{- $env := .Values.extraEnv }}
    {{- if include "crashloop-exporter.sharded" . }}
    {{- /* $(POD_INDEX) in args expands only variables declared in env. */}}
    {{- $podIndex := dict "name" "POD_INDEX" "valueFrom" (dict "fieldRef" (dict "fieldPath" "metadata.labels['apps.kubernetes.io/pod-index']")) }}
    {{- $env = prepend $env $podIndex }}
    {{- end }}
    {{- with $env }}
    env:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    ports:
    - name: metrics
      containerPort: 10079
      protocol: TCP
    # Held back until the first LIST of pods, events and nodes is done (/readyz = 200):
    # 60 x 5 s = 5 minutes before the kubelet gives up.
    startupProbe:
      httpGet:
        path: /readyz
        port: metrics
      periodSeconds: 5
      timeoutSeconds: 5
      failureThreshold: 60
    livenessProbe:
      httpGet:
        path: /healthz
        port: metrics
      periodSeconds: 10
      timeoutSeconds: 5
      failureThreshold: 6
    readinessProbe:
      httpGet:
        path: /readyz
        port: metrics
      periodSeconds: 10
      timeoutSeconds: 5
      failureThreshold: 3
    resources:
      {{- toYaml .Values.resources | nindent 6 }}
    securityContext:
      {{- toYaml .Values.securityContext | nindent 6 }}
    volumeMounts:
    # The root filesystem is read-only; Python's tempfile and any library scratch go here.
    - name: tmp
      mountPath: /tmp
  volumes:
  - name: tmp
    emptyDir:
      sizeLimit: 16Mi
{{- end }}
