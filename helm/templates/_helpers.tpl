{{/* Names and labels. */}}
{{- define "vertrouwd.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "vertrouwd.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "vertrouwd.labels" -}}
app.kubernetes.io/name: {{ include "vertrouwd.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Selector labels of one component: include with (dict "root" $ "component" "web"). */}}
{{- define "vertrouwd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vertrouwd.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "vertrouwd.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository .Values.image.tag -}}
{{- end -}}
{{- end -}}

{{- define "vertrouwd.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "vertrouwd.fullname" .)) -}}
{{- end -}}

{{/* Settings for every pod: the ConfigMap, then secret values by reference. The migration Job
     uses copies made as hooks (they must exist before the release's own resources do). */}}
{{- define "vertrouwd.env" -}}
{{- $root := .root -}}
{{- $secret := .secretName -}}
{{- $keys := $root.Values.secrets.keys -}}
envFrom:
  - configMapRef:
      name: {{ .configMapName }}
env:
  {{- range $variable, $key := dict "DATABASE_URL" $keys.databaseUrl "REDIS_URL" $keys.redisUrl "MASTER_KEY" $keys.masterKey "SECRET_KEY" $keys.secretKey }}
  - name: {{ $variable }}
    valueFrom:
      secretKeyRef:
        name: {{ $secret }}
        key: {{ $key }}
  {{- end }}
  {{- range $variable, $key := dict "MASTER_KEY_PREVIOUS" $keys.masterKeyPrevious "STRIPE_SECRET_KEY" $keys.stripeSecretKey "STRIPE_WEBHOOK_SECRET" $keys.stripeWebhookSecret "EMAIL_HOST_PASSWORD" $keys.emailHostPassword }}
  - name: {{ $variable }}
    valueFrom:
      secretKeyRef:
        name: {{ $secret }}
        key: {{ $key }}
        optional: true
  {{- end }}
{{- end -}}

{{- define "vertrouwd.containerSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: {{ .Values.podSecurityContext.runAsUser }}
  runAsGroup: {{ .Values.podSecurityContext.runAsGroup }}
  allowPrivilegeEscalation: false
  privileged: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: ["ALL"]
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{/* The pod-level parts every component shares. */}}
{{- define "vertrouwd.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .Values.serviceAccountName }}
serviceAccountName: {{ .Values.serviceAccountName }}
{{- end }}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end -}}

{{- define "vertrouwd.tmpMount" -}}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- end -}}

{{/* Roll the pods whenever configuration or inline secrets change. */}}
{{- define "vertrouwd.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end -}}

{{- define "vertrouwd.configData" -}}
BASE_DOMAIN: {{ .Values.baseDomain | quote }}
PUBLIC_SCHEME: "https"
PUBLIC_PORT: ""
BEHIND_TLS_PROXY: "1"
SECURE_COOKIES: "1"
SECURE_HSTS_SECONDS: {{ .Values.config.hstsSeconds | int64 | quote }}
LOG_LEVEL: {{ .Values.config.logLevel | quote }}
TENANT_ROUTING_CACHE_SECONDS: {{ .Values.config.routingCacheSeconds | int64 | quote }}
CONN_MAX_AGE: {{ .Values.config.connMaxAge | int64 | quote }}
CELERY_QUEUE: {{ .Values.config.celeryQueue | quote }}
EMAIL_BACKEND: {{ ternary "django.core.mail.backends.smtp.EmailBackend" "django.core.mail.backends.console.EmailBackend" (ne .Values.config.email.host "") | quote }}
EMAIL_HOST: {{ .Values.config.email.host | quote }}
EMAIL_PORT: {{ .Values.config.email.port | int64 | quote }}
EMAIL_USE_TLS: {{ ternary "1" "0" .Values.config.email.useTls | quote }}
EMAIL_HOST_USER: {{ .Values.config.email.user | quote }}
DEFAULT_FROM_EMAIL: {{ .Values.config.email.from | default (printf "Vertrouwd <no-reply@%s>" .Values.baseDomain) | quote }}
WEB_CONCURRENCY: {{ .Values.web.concurrency | int64 | quote }}
GUNICORN_THREADS: {{ .Values.web.threads | int64 | quote }}
GUNICORN_GRACEFUL_TIMEOUT: {{ .Values.web.gracefulTimeoutSeconds | int64 | quote }}
CELERY_CONCURRENCY: {{ .Values.worker.concurrency | int64 | quote }}
MIGRATION_PROCESSES: {{ .Values.migrations.processes | int64 | quote }}
{{- range $name, $value := .Values.extraEnv }}
{{ $name }}: {{ $value | quote }}
{{- end }}
{{- end -}}

{{- define "vertrouwd.secretData" -}}
{{- $keys := .Values.secrets.keys -}}
{{ $keys.databaseUrl }}: {{ .Values.secrets.databaseUrl | b64enc | quote }}
{{ $keys.redisUrl }}: {{ .Values.secrets.redisUrl | b64enc | quote }}
{{ $keys.masterKey }}: {{ .Values.secrets.masterKey | b64enc | quote }}
{{ $keys.secretKey }}: {{ .Values.secrets.secretKey | b64enc | quote }}
{{- with .Values.secrets.masterKeyPrevious }}
{{ $keys.masterKeyPrevious }}: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.secrets.stripeSecretKey }}
{{ $keys.stripeSecretKey }}: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.secrets.stripeWebhookSecret }}
{{ $keys.stripeWebhookSecret }}: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.secrets.emailHostPassword }}
{{ $keys.emailHostPassword }}: {{ . | b64enc | quote }}
{{- end }}
{{- end -}}

{{/* Every host the Ingress answers: the console, one label below it, and each firm's clients. */}}
{{- define "vertrouwd.hosts" -}}
- {{ .Values.baseDomain | quote }}
- {{ printf "*.%s" .Values.baseDomain | quote }}
{{- range .Values.ingress.firms }}
- {{ printf "*.%s.%s" . $.Values.baseDomain | quote }}
{{- end }}
{{- end -}}
