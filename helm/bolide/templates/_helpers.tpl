{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "bolide.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the release's objects. Leaves room for suffixes such as "-metrics" and
"-leader-election" within 63 characters.
*/}}
{{- define "bolide.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 45 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 45 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 45 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "bolide.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels of the operator pods. The name is "<chart>-operator", not "bolide": broker and
name-server pods (created by the operator) carry app.kubernetes.io/name=bolide and must not match.
*/}}
{{- define "bolide.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bolide.name" . }}-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of every object of the release, without name and component. */}}
{{- define "bolide.commonLabels" -}}
helm.sh/chart: {{ include "bolide.chart" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: bolide
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels of the operator's own objects. */}}
{{- define "bolide.labels" -}}
{{ include "bolide.commonLabels" . }}
app.kubernetes.io/name: {{ include "bolide.name" . }}-operator
app.kubernetes.io/component: operator
{{- end }}

{{- define "bolide.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "bolide.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "bolide.metricsServiceName" -}}
{{- printf "%s-metrics" (include "bolide.fullname" .) }}
{{- end }}

{{/* In-cluster URL of the operator's Alertmanager webhook. */}}
{{- define "bolide.webhookURL" -}}
{{- printf "http://%s.%s.svc:%d/alerts" (include "bolide.metricsServiceName" .) .Release.Namespace (int .Values.http.port) }}
{{- end }}

{{- define "bolide.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "bolide.brokerImage" -}}
{{- printf "%s:%s" .Values.brokerImage.repository (default .Chart.AppVersion .Values.brokerImage.tag) }}
{{- end }}

{{/* The lease the operator replicas compete for (in the release namespace). */}}
{{- define "bolide.leaseName" -}}
{{- default (printf "%s-leader" (include "bolide.fullname" .)) .Values.leaderElection.leaseName }}
{{- end }}
