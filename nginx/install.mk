# nginx/install.mk: what `make install` puts beside the library and header.
#
#   $(bindir)/fcdash-pool                         the pool script
#   $(pkgdatadir)/nginx/fcdash-app.conf.in        nginx's per-app locations
#   $(pkgdatadir)/nginx/fcdash-nginx-conf         a complete nginx.conf from it
#   $(pkgdatadir)/nginx/fcdash-hosts.conf         http-level lines for several hosts
#   $(pkgdatadir)/apache/fcdash-fcgid.conf.in     Apache, mod_fcgid
#   $(pkgdatadir)/apache/fcdash-proxy-fcgi.conf.in  Apache, mod_proxy_fcgi
#   $(pkgdatadir)/apache/fcdash-apache-conf       a complete httpd.conf from them
#   $(pkgdatadir)/apache/errors/*.json            JSON bodies of Apache's own errors
#   $(pkgdatadir)/systemd/fcdash-pool@.service    a systemd unit for a pool
#
# fcdash-nginx-conf and fcdash-apache-conf find their templates beside
# themselves, so each goes into the same folder as its templates, not into
# $(bindir).  The nginx files are in EXTRA_DIST already (Makefile.am).
bin_SCRIPTS = nginx/fcdash-pool

fcdash_nginxdir = $(pkgdatadir)/nginx
fcdash_nginx_DATA = nginx/fcdash-app.conf.in
dist_fcdash_nginx_DATA = nginx/fcdash-hosts.conf
fcdash_nginx_SCRIPTS = nginx/fcdash-nginx-conf

fcdash_apachedir = $(pkgdatadir)/apache
dist_fcdash_apache_DATA = apache/fcdash-fcgid.conf.in apache/fcdash-proxy-fcgi.conf.in
dist_fcdash_apache_SCRIPTS = apache/fcdash-apache-conf

fcdash_apache_errorsdir = $(pkgdatadir)/apache/errors
dist_fcdash_apache_errors_DATA = apache/errors/500.json apache/errors/502.json \
	apache/errors/503.json apache/errors/504.json

fcdash_systemddir = $(pkgdatadir)/systemd
dist_fcdash_systemd_DATA = systemd/fcdash-pool@.service

