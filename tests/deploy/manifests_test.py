#!/usr/bin/python3
"""Checks the deployment files against the server they deploy.

Parses the Dockerfile, .dockerignore, deploy/docker-compose.yml and every
manifest of deploy/k8s (kustomization resources), and checks them against
`mlpserve --help`: every flag they pass exists, the ports they publish are the
ports of --grpc-address / --metrics-address, probes and health checks target
the gRPC port, selectors match pod labels, and shutdown timing leaves the
server its --shutdown-grace-secs.

    /usr/bin/python3 tests/deploy/manifests_test.py [PATH/TO/mlpserve]
    MLPSERVE_BIN=build/bin/mlpserve /usr/bin/python3 tests/deploy/manifests_test.py

Needs python3-yaml (Debian). Without a binary, the flag checks are skipped.
"""
import json
import os
import re
import shlex
import subprocess
import sys
import unittest

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(REPO, "deploy")
K8S = os.path.join(DEPLOY, "k8s")
GRPC_PORT, METRICS_PORT = 8001, 8002
POD_KINDS = {"Deployment", "StatefulSet", "DaemonSet"}

MLPSERVE_BIN = os.environ.get("MLPSERVE_BIN", "")


# ----------------------------------------------------------------- helpers


def load_help(binary):
    """Returns (flags, defaults) from `mlpserve --help`: the set of long flag
    names and {flag: default string} where CLI11 prints one in brackets."""
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30,
                         check=False)
    text = out.stdout + out.stderr
    if out.returncode != 0 or "--model-repository" not in text:
        raise RuntimeError(f"{binary} --help failed ({out.returncode}):\n{text}")
    flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text))
    defaults = {}
    for line in text.splitlines():
        # CLI11 2.1 prints "--flag TYPE=default", newer CLI11 "--flag TYPE [default]".
        m = (re.match(r"\s*(--[a-z][a-z0-9-]*)\s+[^\s=]*=(\S+)", line) or
             re.match(r"\s*(--[a-z][a-z0-9-]*)\s+\S+\s+\[([^\]]*)\]", line))
        if m:
            defaults[m.group(1)] = m.group(2)
    return flags, defaults


def parse_args(args):
    """['--a=1', '--b', '2', 'x'] -> {'--a': '1', '--b': '2'} (flags only)."""
    parsed, i = {}, 0
    while i < len(args):
        arg = str(args[i])
        if arg.startswith("--"):
            if "=" in arg:
                name, value = arg.split("=", 1)
            elif i + 1 < len(args) and not str(args[i + 1]).startswith("--"):
                name, value = arg, str(args[i + 1])
                i += 1
            else:
                name, value = arg, ""
            parsed[name] = value
        i += 1
    return parsed


def address_port(address):
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def parse_dockerfile(path):
    """Returns a list of stages, each a list of (INSTRUCTION, argument text),
    with continuation lines joined and comments dropped."""
    stages, lines, current = [], [], ""
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not current and line.lstrip().startswith("#"):
                continue
            if line.rstrip().endswith("\\"):
                current += line.rstrip()[:-1] + " "
                continue
            current += line
            if current.strip():
                lines.append(current.strip())
            current = ""
    for line in lines:
        if line.lstrip().startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instruction, rest.strip()))
    return stages


def exec_form(text):
    """A Dockerfile JSON (exec) form argument as a list; fails on shell form."""
    value = json.loads(text)
    assert isinstance(value, list), text
    return value


def load_k8s():
    with open(os.path.join(K8S, "kustomization.yaml"), encoding="utf-8") as f:
        kustomization = yaml.safe_load(f)
    docs = []
    for resource in kustomization.get("resources", []):
        with open(os.path.join(K8S, resource), encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if doc:
                    docs.append((resource, doc))
    return kustomization, docs


def selector_matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


# ----------------------------------------------------------------- fixtures


class Fixtures:
    flags = None
    defaults = {}
    dockerfile = None
    compose = None
    kustomization = None
    k8s = None

    @classmethod
    def load(cls):
        if cls.dockerfile is not None:
            return
        if MLPSERVE_BIN:
            cls.flags, cls.defaults = load_help(MLPSERVE_BIN)
        cls.dockerfile = parse_dockerfile(os.path.join(REPO, "Dockerfile"))
        with open(os.path.join(DEPLOY, "docker-compose.yml"), encoding="utf-8") as f:
            cls.compose = yaml.safe_load(f)
        cls.kustomization, cls.k8s = load_k8s()

    @classmethod
    def shutdown_grace(cls, args):
        value = args.get("--shutdown-grace-secs") or cls.defaults.get("--shutdown-grace-secs")
        return int(value) if value else 30  # README's documented default

    @classmethod
    def kinds(cls, kind):
        return [doc for _, doc in cls.k8s if doc.get("kind") == kind]


class DeployTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        Fixtures.load()

    def assertFlagsExist(self, args, where):
        if Fixtures.flags is None:
            return  # HelpTest reports the skip
        for name in parse_args(args):
            self.assertIn(name, Fixtures.flags, f"{where}: {name} is not a flag of mlpserve --help")

    def assertServerAddresses(self, args, where):
        parsed = parse_args(args)
        for flag, port in (("--grpc-address", GRPC_PORT), ("--metrics-address", METRICS_PORT)):
            address = parsed.get(flag) or Fixtures.defaults.get(flag) or f"0.0.0.0:{port}"
            host, got = address_port(address)
            self.assertEqual(got, port, f"{where}: {flag}={address}, want port {port}")
            self.assertIn(host, ("0.0.0.0", "::", ""),
                          f"{where}: {flag}={address} is not reachable from outside the container")
        return parsed


# ----------------------------------------------------------------- binary


class HelpTest(DeployTestCase):
    def test_help_lists_the_documented_flags(self):
        if Fixtures.flags is None:
            self.skipTest("no mlpserve binary given")
        for flag in ("--model-repository", "--grpc-address", "--metrics-address", "--log-level",
                     "--shutdown-grace-secs"):
            self.assertIn(flag, Fixtures.flags)
        self.assertEqual(Fixtures.defaults.get("--grpc-address"), f"0.0.0.0:{GRPC_PORT}")
        self.assertEqual(Fixtures.defaults.get("--metrics-address"), f"0.0.0.0:{METRICS_PORT}")
        self.assertTrue(Fixtures.defaults.get("--shutdown-grace-secs", "").isdigit())


# ----------------------------------------------------------------- Dockerfile


class DockerfileTest(DeployTestCase):
    def final(self, instruction):
        return [arg for ins, arg in Fixtures.dockerfile[-1] if ins == instruction]

    def test_multi_stage_from_debian_bookworm(self):
        stages = Fixtures.dockerfile
        self.assertGreaterEqual(len(stages), 2, "want a build stage and a runtime stage")
        with open(os.path.join(REPO, "Dockerfile"), encoding="utf-8") as f:
            text = f.read()
        args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", text, re.M))
        for stage in stages:
            image = stage[0][1].split()[0]
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), image)
            self.assertEqual(image, "debian:bookworm")

    def test_build_stage_builds_only_the_binaries(self):
        runs = " ".join(arg for ins, arg in Fixtures.dockerfile[0] if ins == "RUN")
        self.assertIn("install-deps.sh build", runs)
        for option in ("-DMLPSERVE_BUILD_TESTS=OFF", "-DMLPSERVE_BUILD_BENCH=OFF",
                       "-DCMAKE_BUILD_TYPE=Release"):
            self.assertIn(option, runs)
        self.assertRegex(runs, r"--target\s+mlpserve\s+mlpserve-client")

    def test_runtime_stage_installs_runtime_packages_and_cleans(self):
        runs = " ".join(self.final("RUN"))
        self.assertIn("install-deps.sh runtime", runs)
        self.assertIn("rm -rf /var/lib/apt/lists/*", runs)
        with open(os.path.join(DEPLOY, "install-deps.sh"), encoding="utf-8") as f:
            self.assertIn("--no-install-recommends", f.read())

    def test_user_is_numeric_non_root(self):
        users = self.final("USER")
        self.assertTrue(users, "runtime stage sets no USER")
        uid = users[-1].split(":")[0]
        self.assertTrue(uid.isdigit() and int(uid) != 0, f"USER {users[-1]}")

    def test_exposes_grpc_and_metrics_ports(self):
        ports = {p.split("/")[0] for arg in self.final("EXPOSE") for p in arg.split()}
        self.assertLessEqual({str(GRPC_PORT), str(METRICS_PORT)}, ports)

    def test_entrypoint_and_cmd(self):
        self.assertEqual(exec_form(self.final("ENTRYPOINT")[-1]), ["mlpserve"])
        cmd = exec_form(self.final("CMD")[-1])
        self.assertEqual(cmd, ["--model-repository=/models"])
        self.assertFlagsExist(cmd, "Dockerfile CMD")
        copies = " ".join(self.final("COPY"))
        self.assertRegex(copies, r"models/?\s+/models/?")

    def test_healthcheck_runs_client_health_on_grpc_port(self):
        checks = self.final("HEALTHCHECK")
        self.assertTrue(checks, "no HEALTHCHECK")
        _, _, command = checks[-1].partition("CMD ")
        argv = exec_form(command.strip())
        self.assertEqual(argv[0], "mlpserve-client")
        # Liveness, as the Kubernetes liveness probe: a model that cannot
        # load must not get the container restarted.
        self.assertEqual(argv[-3:], ["health", "--service", "liveness"])
        url = argv[argv.index("--url") + 1]
        self.assertEqual(address_port(url), ("localhost", GRPC_PORT))

    def test_dockerignore_excludes_build_trees_and_git(self):
        with open(os.path.join(REPO, ".dockerignore"), encoding="utf-8") as f:
            patterns = {line.strip() for line in f if line.strip() and not line.startswith("#")}
        self.assertIn(".git", patterns)
        self.assertTrue({"build*/", "build*"} & patterns, patterns)


# ----------------------------------------------------------------- compose


class ComposeTest(DeployTestCase):
    def service(self, name):
        services = Fixtures.compose["services"]
        self.assertIn(name, services)
        return services[name]

    def test_mlpserve_builds_the_repository_dockerfile(self):
        build = self.service("mlpserve")["build"]
        context = os.path.normpath(os.path.join(DEPLOY, build["context"]))
        self.assertEqual(context, REPO)
        self.assertTrue(os.path.isfile(os.path.join(context, build.get("dockerfile", "Dockerfile"))))

    def test_flags_ports_and_model_volume(self):
        mlpserve = self.service("mlpserve")
        command = mlpserve["command"]
        command = shlex.split(command) if isinstance(command, str) else command
        self.assertFlagsExist(command, "compose mlpserve.command")
        parsed = self.assertServerAddresses(command, "compose mlpserve.command")
        published = {}
        for port in mlpserve["ports"]:
            host, _, container = str(port).rpartition(":")
            published[int(container.split("/")[0])] = int(host.rpartition(":")[2])
        for port in (GRPC_PORT, METRICS_PORT):
            self.assertIn(port, published, f"container port {port} not published")
        repository = parsed.get("--model-repository")
        targets = [v["target"] if isinstance(v, dict) else v.split(":")[1]
                   for v in mlpserve.get("volumes", [])]
        self.assertIn(repository, targets, "no volume at the --model-repository path")
        grace = Fixtures.shutdown_grace(parsed)
        stop = int(str(mlpserve.get("stop_grace_period", "10s")).rstrip("s"))
        self.assertGreater(stop, grace, "stop_grace_period must exceed --shutdown-grace-secs")

    def test_prometheus_and_grafana_reach_the_server(self):
        # A bridge network shared by the three, not network_mode
        # "service:mlpserve": that left Prometheus and Grafana in the dead
        # namespace of an mlpserve container that had restarted.
        services = Fixtures.compose["services"]
        networks = Fixtures.compose.get("networks") or {}
        prometheus, grafana = self.service("prometheus"), self.service("grafana")
        self.assertTrue(prometheus["image"].startswith("prom/prometheus"))
        self.assertTrue(grafana["image"].startswith("grafana/grafana"))
        shared = None
        for name in ("mlpserve", "prometheus", "grafana"):
            svc = services[name]
            self.assertNotIn("network_mode", svc, name)
            attached = set(svc.get("networks") or [])
            self.assertTrue(attached, f"{name} joins no named network")
            shared = attached if shared is None else shared & attached
        self.assertTrue(shared, "mlpserve, prometheus and grafana share no network")
        for network in shared:
            self.assertIn(network, networks)
            self.assertEqual((networks[network] or {}).get("driver", "bridge"), "bridge", network)
        # Prometheus scrapes the mlpserve service on its metrics port.
        with open(os.path.join(DEPLOY, "prometheus", "prometheus.yml"), encoding="utf-8") as f:
            scrape = yaml.safe_load(f)
        (job,) = [j for j in scrape["scrape_configs"] if j["job_name"] == "mlpserve"]
        targets = [t for sc in job["static_configs"] for t in sc["targets"]]
        self.assertEqual([address_port(t) for t in targets], [("mlpserve", METRICS_PORT)])
        # Grafana reads the prometheus service on the port it listens on.
        listen = parse_args(prometheus["command"]).get("--web.listen-address", "0.0.0.0:9090")
        with open(os.path.join(DEPLOY, "grafana", "provisioning", "datasources", "prometheus.yml"),
                  encoding="utf-8") as f:
            (datasource,) = yaml.safe_load(f)["datasources"]
        url = re.fullmatch(r"http://([^/:]+):(\d+)/?", datasource["url"])
        self.assertTrue(url, datasource["url"])
        self.assertEqual((url.group(1), int(url.group(2))), ("prometheus", address_port(listen)[1]))
        # Nothing needs Prometheus' unauthenticated reload/shutdown endpoints.
        self.assertNotIn("--web.enable-lifecycle", prometheus["command"])
        for name, port in (("prometheus", 9090), ("grafana", 3000)):
            published = [str(p).rpartition(":")[2] for p in services[name].get("ports", [])]
            self.assertIn(str(port), published, f"{name} port {port} not published")

    def test_ports_published_on_loopback_only(self):
        # /metrics, /activations, Prometheus and Grafana's anonymous viewer
        # have no authentication: "HOST_IP:HOST:CONTAINER" with 127.0.0.1.
        for name, svc in Fixtures.compose["services"].items():
            for port in svc.get("ports", []):
                self.assertIsInstance(port, str, f"{name}: write ports as strings")
                self.assertTrue(port.startswith("127.0.0.1:") and port.count(":") == 2,
                                f"{name}: port {port!r} is not bound to 127.0.0.1")

    def test_config_paths_exist(self):
        def sources(svc):
            return {os.path.normpath(os.path.join(DEPLOY, v["source"])): v["target"]
                    for v in svc.get("volumes", []) if isinstance(v, dict) and v["type"] == "bind"}
        prom = sources(self.service("prometheus"))
        graf = sources(self.service("grafana"))
        self.assertEqual(prom.get(os.path.join(DEPLOY, "prometheus")), "/etc/prometheus")
        self.assertEqual(graf.get(os.path.join(DEPLOY, "grafana", "provisioning")),
                         "/etc/grafana/provisioning")
        dashboards = graf.get(os.path.join(DEPLOY, "grafana", "dashboards"))
        self.assertTrue(dashboards)
        for path in list(prom) + list(graf):
            if not os.path.isdir(path):
                self.skipTest(f"{path} not written yet")
        config = os.path.join(DEPLOY, "prometheus", "prometheus.yml")
        with open(config, encoding="utf-8") as f:
            scrape = yaml.safe_load(f)
        targets = [t for job in scrape.get("scrape_configs", [])
                   for sc in job.get("static_configs", []) for t in sc.get("targets", [])]
        self.assertTrue(any(t.endswith(f":{METRICS_PORT}") for t in targets), targets)
        for rule_file in scrape.get("rule_files", []):
            self.assertTrue(os.path.isfile(os.path.join(DEPLOY, "prometheus", rule_file)), rule_file)
        # The dashboards provider must look where compose mounts the JSON files.
        provider_dir = os.path.join(DEPLOY, "grafana", "provisioning", "dashboards")
        paths = []
        for name in os.listdir(provider_dir):
            if name.endswith((".yml", ".yaml")):
                with open(os.path.join(provider_dir, name), encoding="utf-8") as f:
                    for p in (yaml.safe_load(f) or {}).get("providers", []):
                        paths.append(p.get("options", {}).get("path"))
        self.assertIn(dashboards, paths)


# ----------------------------------------------------------------- kubernetes


class KubernetesTest(DeployTestCase):
    def setUp(self):
        deployments = Fixtures.kinds("Deployment")
        self.assertEqual(len(deployments), 1)
        self.deployment = deployments[0]
        self.pod = self.deployment["spec"]["template"]
        self.pod_labels = self.pod["metadata"]["labels"]
        containers = self.pod["spec"]["containers"]
        self.container = next(c for c in containers if c["name"] == "mlpserve")
        self.args = self.container.get("command", [])[1:] + self.container.get("args", [])
        self.ports = {p["name"]: p["containerPort"] for p in self.container["ports"]}

    def test_every_manifest_has_kind_and_name(self):
        self.assertTrue(Fixtures.k8s)
        for resource, doc in Fixtures.k8s:
            self.assertTrue(doc.get("apiVersion") and doc.get("kind"), resource)
            self.assertTrue(doc["metadata"].get("name"), resource)

    def test_expected_objects(self):
        kinds = {(doc["apiVersion"], doc["kind"]) for _, doc in Fixtures.k8s}
        for kind in (("apps/v1", "Deployment"), ("v1", "Service"),
                     ("autoscaling/v2", "HorizontalPodAutoscaler"),
                     ("policy/v1", "PodDisruptionBudget"),
                     ("monitoring.coreos.com/v1", "PodMonitor"),
                     ("monitoring.coreos.com/v1", "PrometheusRule")):
            self.assertIn(kind, kinds)

    def test_deployment_args_and_ports(self):
        # The HPA owns the replica count; a fixed one would fight it on apply.
        self.assertNotIn("replicas", self.deployment["spec"])
        self.assertFlagsExist(self.args, "Deployment args")
        self.assertServerAddresses(self.args, "Deployment args")
        self.assertEqual(self.ports.get("grpc"), GRPC_PORT)
        self.assertEqual(self.ports.get("metrics"), METRICS_PORT)

    def test_model_repository_is_a_volume(self):
        repository = parse_args(self.args).get("--model-repository")
        self.assertTrue(repository)
        mounts = {m["mountPath"]: m["name"] for m in self.container.get("volumeMounts", [])}
        self.assertIn(repository, mounts)
        volumes = {v["name"] for v in self.pod["spec"]["volumes"]}
        self.assertIn(mounts[repository], volumes)

    def test_probes_are_grpc_on_the_grpc_port(self):
        for probe in ("readinessProbe", "livenessProbe"):
            self.assertIn(probe, self.container)
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            if probe in self.container:
                port = self.container[probe]["grpc"]["port"]
                self.assertEqual(port, GRPC_PORT, probe)

    def test_probes_ask_the_health_service_names_the_server_knows(self):
        # Liveness asks "liveness" (SERVING whatever the models do, so a
        # broken model never restarts the pod); readiness asks "" (the
        # server's readiness). Both names as server/rpc/health_service.h
        # serves them.
        with open(os.path.join(REPO, "server", "rpc", "health_service.h")) as f:
            self.assertIn('kLiveness[] = "liveness"', f.read())
        self.assertEqual(self.container["livenessProbe"]["grpc"].get("service"), "liveness")
        self.assertEqual(self.container["readinessProbe"]["grpc"].get("service", ""), "")

    def test_resources(self):
        resources = self.container["resources"]
        for kind in ("requests", "limits"):
            for name in ("cpu", "memory"):
                self.assertIn(name, resources.get(kind, {}), f"{kind}.{name}")

    def test_security_context(self):
        pod_sc = self.pod["spec"].get("securityContext", {})
        sc = self.container.get("securityContext", {})
        self.assertTrue(sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")))
        self.assertTrue(sc.get("readOnlyRootFilesystem"))
        self.assertFalse(sc.get("allowPrivilegeEscalation", True))
        uid = sc.get("runAsUser", pod_sc.get("runAsUser"))
        if uid is not None:
            self.assertNotEqual(uid, 0)
            users = [a for i, a in Fixtures.dockerfile[-1] if i == "USER"]
            self.assertEqual(str(uid), users[-1].split(":")[0], "runAsUser != Dockerfile USER")

    def test_termination_grace_exceeds_shutdown_grace(self):
        grace = Fixtures.shutdown_grace(parse_args(self.args))
        pre_stop = 0
        exec_cmd = self.container.get("lifecycle", {}).get("preStop", {}).get("exec", {})
        command = exec_cmd.get("command", [])
        if command[:1] == ["sleep"]:
            pre_stop = int(command[1])
        period = self.pod["spec"].get("terminationGracePeriodSeconds", 30)
        self.assertGreater(period, grace + pre_stop,
                           f"terminationGracePeriodSeconds {period} <= preStop {pre_stop} + "
                           f"--shutdown-grace-secs {grace}")

    def test_services_select_the_pods_and_target_its_ports(self):
        services = Fixtures.kinds("Service")
        self.assertTrue(any(s["spec"].get("clusterIP") == "None" for s in services),
                        "no headless Service for client-side balancing")
        normal = [s for s in services if s["spec"].get("clusterIP") != "None"]
        self.assertTrue(normal)
        self.assertEqual({p["port"] for p in normal[0]["spec"]["ports"]}, {GRPC_PORT, METRICS_PORT})
        for service in services:
            name = service["metadata"]["name"]
            self.assertTrue(selector_matches(service["spec"]["selector"], self.pod_labels), name)
            for port in service["spec"]["ports"]:
                target = port.get("targetPort", port["port"])
                if isinstance(target, str):
                    self.assertIn(target, self.ports, f"{name}: targetPort {target}")
                    target = self.ports[target]
                self.assertIn(target, self.ports.values(), name)
                if port.get("name") == "grpc":
                    self.assertEqual(target, GRPC_PORT, name)

    def test_deployment_selector_matches_template(self):
        selector = self.deployment["spec"]["selector"]["matchLabels"]
        self.assertTrue(selector_matches(selector, self.pod_labels))

    def test_hpa_targets_the_deployment_on_cpu(self):
        (hpa,) = Fixtures.kinds("HorizontalPodAutoscaler")
        ref = hpa["spec"]["scaleTargetRef"]
        self.assertEqual((ref["kind"], ref["name"], ref.get("apiVersion")),
                         ("Deployment", self.deployment["metadata"]["name"], "apps/v1"))
        self.assertGreaterEqual(hpa["spec"]["minReplicas"], 2)  # no single point of failure
        self.assertGreater(hpa["spec"]["maxReplicas"], hpa["spec"]["minReplicas"])
        metrics = hpa["spec"]["metrics"]
        self.assertTrue(any(m["type"] == "Resource" and m["resource"]["name"] == "cpu"
                            for m in metrics))

    def test_pdb_lets_drains_through_one_pod_at_a_time(self):
        (pdb,) = Fixtures.kinds("PodDisruptionBudget")
        self.assertTrue(selector_matches(pdb["spec"]["selector"]["matchLabels"], self.pod_labels))
        (hpa,) = Fixtures.kinds("HorizontalPodAutoscaler")
        # 0 (or minAvailable >= the fleet) would block every node drain.
        self.assertEqual(pdb["spec"].get("maxUnavailable"), 1)
        self.assertNotIn("minAvailable", pdb["spec"])
        self.assertGreater(hpa["spec"]["minReplicas"], pdb["spec"]["maxUnavailable"])
        # An unready pod (a model that cannot load) must not block drains.
        self.assertEqual(pdb["spec"].get("unhealthyPodEvictionPolicy"), "AlwaysAllow")

    def test_replicas_spread_over_nodes(self):
        spread = self.pod["spec"].get("topologySpreadConstraints", [])
        by_key = {c["topologyKey"]: c for c in spread}
        self.assertIn("kubernetes.io/hostname", by_key)
        hard = [c for c in spread if c["whenUnsatisfiable"] == "DoNotSchedule"]
        for constraint in hard:
            # Tainted nodes (a control plane) must not count as empty domains.
            self.assertEqual(constraint.get("nodeTaintsPolicy"), "Honor", constraint["topologyKey"])
        for constraint in spread:
            self.assertTrue(selector_matches(constraint["labelSelector"]["matchLabels"],
                                             self.pod_labels), constraint["topologyKey"])
            self.assertEqual(constraint["maxSkew"], 1)

    def test_connections_age_and_requests_are_bounded(self):
        args = parse_args(self.args)
        # Long-lived gRPC clients must reach pods a scale-out adds.
        self.assertGreater(int(args.get("--max-connection-age-secs", "0")), 0)
        # A request gRPC buffers whole must stay far below the memory limit.
        limit = self.container["resources"]["limits"]["memory"]
        self.assertTrue(limit.endswith("Gi") or limit.endswith("Mi"), limit)
        limit_bytes = int(limit[:-2]) << (30 if limit.endswith("Gi") else 20)
        self.assertLessEqual(int(args.get("--max-request-bytes", 64 << 20)) * 64, limit_bytes)

    def test_podmonitor_scrapes_metrics_port(self):
        (monitor,) = Fixtures.kinds("PodMonitor")
        self.assertTrue(selector_matches(monitor["spec"]["selector"]["matchLabels"],
                                         self.pod_labels))
        for endpoint in monitor["spec"]["podMetricsEndpoints"]:
            self.assertEqual(self.ports.get(endpoint["port"]), METRICS_PORT)
            self.assertEqual(endpoint.get("path", "/metrics"), "/metrics")
        # The dashboard filters process metrics on job="mlpserve", the compose
        # stack's job_name; the operator takes the job from this pod label.
        self.assertEqual(self.pod_labels.get(monitor["spec"].get("jobLabel")), "mlpserve")

    def test_image_tag_is_pinned_for_if_not_present(self):
        # IfNotPresent with a floating tag (latest) leaves each node on the
        # image it pulled first; the scheme is a versioned tag, the project's
        # version, with IfNotPresent (or Always, were the tag floating).
        with open(os.path.join(REPO, "CMakeLists.txt"), encoding="utf-8") as f:
            version = re.search(r"project\(mlpserve\s+VERSION\s+([\d.]+)", f.read()).group(1)
        images = {i["name"]: i for i in Fixtures.kustomization.get("images", [])}
        containers = (self.pod["spec"].get("initContainers", []) +
                      self.pod["spec"]["containers"])
        for container in containers:
            image = images.get(container["image"].split(":")[0], {})
            tag = str(image.get("newTag") or container["image"].partition(":")[2] or "latest")
            policy = container.get("imagePullPolicy", "Always" if tag == "latest" else
                                   "IfNotPresent")
            if policy == "Always":
                continue
            self.assertEqual(policy, "IfNotPresent", container["name"])
            if image.get("digest"):
                continue
            self.assertNotEqual(tag, "latest", f"{container['name']}: IfNotPresent with latest")
            self.assertEqual(tag, version, f"{container['name']}: tag {tag}, project {version}")

    def test_prometheusrule_is_alerts_yml(self):
        # alerts.yml is the one copy of the rules (promtool and a real
        # Prometheus check it in tests/metrics); the PrometheusRule is
        # generated from it and must not drift.
        (rule,) = Fixtures.kinds("PrometheusRule")
        with open(os.path.join(DEPLOY, "prometheus", "alerts.yml"), encoding="utf-8") as f:
            alerts = yaml.safe_load(f)
        self.assertEqual(rule["spec"]["groups"], alerts["groups"],
                         "deploy/k8s/prometheusrule.yaml differs from alerts.yml: make k8s-rules")
        generated = subprocess.run([os.path.join(K8S, "prometheusrule.sh")], capture_output=True,
                                   text=True, timeout=30, check=True).stdout
        with open(os.path.join(K8S, "prometheusrule.yaml"), encoding="utf-8") as f:
            self.assertEqual(f.read(), generated, "prometheusrule.yaml is stale: make k8s-rules")


if __name__ == "__main__":
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        MLPSERVE_BIN = sys.argv.pop(1)
    if MLPSERVE_BIN and not os.access(MLPSERVE_BIN, os.X_OK):
        sys.exit(f"manifests_test: {MLPSERVE_BIN} is not an executable")
    unittest.main(verbosity=2)
