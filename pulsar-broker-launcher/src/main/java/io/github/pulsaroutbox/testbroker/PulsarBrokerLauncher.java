package io.github.pulsaroutbox.testbroker;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Starts a standalone Apache Pulsar broker ({@code org.apache.pulsar:pulsar-broker}) in a JVM of its own, on free
 * loopback ports and with a data directory of its own, and waits until it is usable.
 * <p>
 * Guarantees:
 * <ul>
 *     <li>the broker never shares a classpath with the caller: its classpath is the one Maven resolved when this
 *     module was built (resource {@value #CLASSPATH_RESOURCE});</li>
 *     <li>{@link #start()} returns only when both {@code /admin/v2/brokers/ready} and the {@code public/default}
 *     namespace answer 200, and fails with a {@link BrokerStartException} naming the cause (no Java executable,
 *     classpath not built, the process exited, e.g. because a port was taken, or the start timeout elapsed)
 *     instead of hanging;</li>
 *     <li>{@link PulsarBroker#close()} stops the process (SIGTERM, then SIGKILL after a grace period) and deletes
 *     the data directory unless it was given by the caller.</li>
 * </ul>
 * Use {@link SharedPulsarBroker} to share one broker per JVM (one per test run).
 */
public final class PulsarBrokerLauncher {

    /** Resource holding the broker's classpath, written by this module's build. */
    public static final String CLASSPATH_RESOURCE = "META-INF/pulsar-broker-launcher/broker.classpath";
    private static final String MAIN_CLASS = "org.apache.pulsar.PulsarStandaloneStarter";

    private Path dataDirectory;
    private boolean deleteDataDirectoryOnClose = true;
    private Duration startTimeout = Duration.ofSeconds(120);
    private boolean deduplication = false;
    private String maxHeap = "256m";
    private boolean quickStart = true;
    private Path javaHome = Path.of(System.getProperty("java.home"));
    private String classpathResource = CLASSPATH_RESOURCE;
    private final Properties extraConfig = new Properties();
    private int brokerPort;
    private int webPort;
    private int zookeeperPort;
    private int bookiePort;

    private PulsarBrokerLauncher() {
    }

    /** A launcher with defaults: temporary data directory, dedup off, 120 s start timeout, 256 MiB heap. */
    public static PulsarBrokerLauncher create() {
        return new PulsarBrokerLauncher();
    }

    /** Keep the broker's data in {@code directory} (not deleted on close), e.g. to restart a broker on its data. */
    public PulsarBrokerLauncher dataDirectory(Path directory) {
        this.dataDirectory = Objects.requireNonNull(directory, "directory");
        this.deleteDataDirectoryOnClose = false;
        return this;
    }

    /** How long {@link #start()} waits for the broker to become usable. */
    public PulsarBrokerLauncher startTimeout(Duration timeout) {
        this.startTimeout = Objects.requireNonNull(timeout, "timeout");
        return this;
    }

    /** Turns broker-side message deduplication on for all namespaces. */
    public PulsarBrokerLauncher deduplication(boolean enabled) {
        this.deduplication = enabled;
        return this;
    }

    /** The Java installation to run the broker with (default: the running JVM's {@code java.home}). */
    public PulsarBrokerLauncher javaHome(Path javaHome) {
        this.javaHome = Objects.requireNonNull(javaHome, "javaHome");
        return this;
    }

    /**
     * Whether the broker JVM is tuned to start fast and stay small (default: true, for tests: the C1 compiler only
     * and the serial collector), or runs with the JVM's default compilers and collector and a 1 GiB heap, as a
     * broker does in production (for benchmarks: C1-only code spends noticeably more CPU per message).
     */
    public PulsarBrokerLauncher quickStart(boolean quickStart) {
        this.quickStart = quickStart;
        this.maxHeap = quickStart ? "256m" : "1g";
        return this;
    }

    /** Where the broker classpath is read from (tests of the launcher itself). */
    PulsarBrokerLauncher classpathResource(String resource) {
        this.classpathResource = Objects.requireNonNull(resource, "resource");
        return this;
    }

    /**
     * Listens on the given ports instead of free ones chosen at start, e.g. to restart a broker (on the same
     * {@link #dataDirectory(Path)}: its bookie must keep its port) where its clients reconnect.
     */
    public PulsarBrokerLauncher ports(int brokerPort, int webPort, int zookeeperPort, int bookiePort) {
        this.brokerPort = brokerPort;
        this.webPort = webPort;
        this.zookeeperPort = zookeeperPort;
        this.bookiePort = bookiePort;
        return this;
    }

    /** Sets a broker configuration key (overrides the launcher's defaults). */
    public PulsarBrokerLauncher config(String key, String value) {
        extraConfig.setProperty(key, value);
        return this;
    }

    /**
     * Starts the broker and blocks until it is usable.
     *
     * @return the running broker; close it to stop it
     * @throws BrokerStartException when the broker cannot be started, with the reason and the tail of its log
     */
    public PulsarBroker start() {
        Path java = javaExecutable(javaHome);
        String classpath = brokerClasspath(classpathResource);
        Path dataDir = prepareDataDirectory();
        int brokerPort = this.brokerPort > 0 ? this.brokerPort : freePort();
        int webPort = this.webPort > 0 ? this.webPort : freePort();
        Path config = dataDir.resolve("standalone.conf");
        Path log = dataDir.resolve("broker.log");
        writeConfig(config, brokerPort, webPort);

        List<String> command = new ArrayList<>();
        command.add(java.toString());
        command.add("-Xmx" + maxHeap);
        command.add("-XX:MaxDirectMemorySize=256m");
        if (quickStart) {
            command.add("-XX:+UseSerialGC");
            command.add("-XX:TieredStopAtLevel=1");
        }
        command.add("-Djava.io.tmpdir=" + mkdirs(dataDir.resolve("tmp")));
        command.add("-Dpulsar.log.root.level=warn");
        command.add("-Dlog4j2.level=warn");
        for (String open : List.of("java.base/java.io", "java.base/java.util.zip", "java.base/java.nio",
                                   "java.base/jdk.internal.misc", "java.base/sun.net",
                                   "java.management/sun.management")) {
            command.add("--add-opens");
            command.add(open + "=ALL-UNNAMED");
        }
        command.add("-cp");
        command.add(classpath);
        command.add(MAIN_CLASS);
        command.add("--config");
        command.add(config.toString());
        command.add("--no-functions-worker");
        command.add("--no-stream-storage");
        command.add("--metadata-dir");
        command.add(mkdirs(dataDir.resolve("metadata")).toString());
        command.add("--bookkeeper-dir");
        command.add(mkdirs(dataDir.resolve("bookkeeper")).toString());
        command.add("--zookeeper-dir");
        command.add(mkdirs(dataDir.resolve("zookeeper")).toString());
        // free ports, so that brokers can run side by side (Pulsar's defaults are 2181 and 3181)
        command.add("--zookeeper-port");
        command.add(Integer.toString(zookeeperPort > 0 ? zookeeperPort : freePort()));
        command.add("--bookkeeper-port");
        command.add(Integer.toString(bookiePort > 0 ? bookiePort : freePort()));

        Process process;
        try {
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        } catch (IOException e) {
            throw new BrokerStartException("Could not launch the broker JVM with " + java + ": " + e.getMessage(), e);
        }
        PulsarBroker broker = new PulsarBroker(process, brokerPort, webPort, dataDir, log, deleteDataDirectoryOnClose);
        try {
            awaitReady(broker);
        } catch (RuntimeException e) {
            broker.close();
            throw e;
        }
        return broker;
    }

    private void awaitReady(PulsarBroker broker) {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!broker.process().isAlive()) {
                throw new BrokerStartException("The broker process exited with code " + broker.process().exitValue()
                                                       + " before it was ready (is port " + broker.brokerPort()
                                                       + " or " + broker.webPort() + " taken?). Log tail:\n"
                                                       + broker.logTail(40));
            }
            if (httpOk(broker.webServiceUrl() + "/admin/v2/brokers/ready")
                    && httpOk(broker.webServiceUrl() + "/admin/v2/namespaces/public/default")) {
                return;
            }
            try {
                broker.process().waitFor(250, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new BrokerStartException("Interrupted while waiting for the broker to start", e);
            }
        }
        throw new BrokerStartException("The broker was not ready within " + startTimeout + ". Log tail:\n"
                                               + broker.logTail(40));
    }

    static boolean httpOk(String url) {
        try {
            HttpURLConnection connection = (HttpURLConnection) URI.create(url).toURL().openConnection();
            connection.setConnectTimeout(1000);
            connection.setReadTimeout(2000);
            try {
                return connection.getResponseCode() == 200;
            } finally {
                connection.disconnect();
            }
        } catch (IOException e) {
            return false;
        }
    }

    private void writeConfig(Path file, int brokerPort, int webPort) {
        Properties config = new Properties();
        config.setProperty("clusterName", "standalone");
        config.setProperty("bindAddress", "127.0.0.1");
        config.setProperty("advertisedAddress", "127.0.0.1");
        config.setProperty("brokerServicePort", Integer.toString(brokerPort));
        config.setProperty("webServicePort", Integer.toString(webPort));
        config.setProperty("listeningInterface", "lo");
        config.setProperty("allowLoopback", "true");
        config.setProperty("managedLedgerDefaultEnsembleSize", "1");
        config.setProperty("managedLedgerDefaultWriteQuorum", "1");
        config.setProperty("managedLedgerDefaultAckQuorum", "1");
        config.setProperty("loadManagerClassName", "org.apache.pulsar.broker.loadbalance.NoopLoadManager");
        config.setProperty("loadBalancerEnabled", "false");
        config.setProperty("brokerDeduplicationEnabled", Boolean.toString(deduplication));
        config.setProperty("journalSyncData", "false");
        config.setProperty("journalMaxGroupWaitMSec", "1");
        config.setProperty("diskUsageThreshold", "0.99");
        config.setProperty("diskUsageWarnThreshold", "0.99");
        config.setProperty("dbStorage_rocksDB_writeBufferSizeMB", "4");
        config.setProperty("dbStorage_rocksDB_sstSizeInMB", "4");
        config.setProperty("dbStorage_writeCacheMaxSizeMb", "16");
        config.setProperty("dbStorage_readAheadCacheMaxSizeMb", "16");
        config.setProperty("allowAutoTopicCreation", "true");
        config.setProperty("allowAutoTopicCreationType", "non-partitioned");
        config.setProperty("functionsWorkerEnabled", "false");
        config.setProperty("systemTopicEnabled", "true");
        config.setProperty("topicLevelPoliciesEnabled", "true");
        extraConfig.forEach((k, v) -> config.setProperty((String) k, (String) v));
        try (var out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            config.store(out, "written by PulsarBrokerLauncher");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String brokerClasspath(String resource) {
        ClassLoader loader = PulsarBrokerLauncher.class.getClassLoader();
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in == null) {
                throw new BrokerStartException("Resource " + resource + " is missing: build the "
                                                       + "pulsar-broker-launcher module with Maven first "
                                                       + "(./mvnw -pl pulsar-broker-launcher install)");
            }
            String classpath = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
            String first = classpath.split(java.io.File.pathSeparator, 2)[0];
            if (classpath.isEmpty() || !Files.exists(Path.of(first))) {
                throw new BrokerStartException("The broker classpath in " + resource + " points to jars "
                                                       + "that do not exist (" + first + "): rebuild the "
                                                       + "pulsar-broker-launcher module on this machine");
            }
            return classpath;
        } catch (IOException e) {
            throw new BrokerStartException("Could not read " + resource + ": " + e.getMessage(), e);
        }
    }

    private static Path javaExecutable(Path javaHome) {
        Path java = javaHome.resolve("bin").resolve("java");
        if (!Files.isExecutable(java)) {
            throw new BrokerStartException("No Java executable at " + java + ": set javaHome to a JDK/JRE 17+");
        }
        return java;
    }

    private Path prepareDataDirectory() {
        try {
            if (dataDirectory != null) {
                return Files.createDirectories(dataDirectory);
            }
            return Files.createTempDirectory("pulsar-broker-");
        } catch (IOException e) {
            throw new BrokerStartException("Could not create the broker data directory: " + e.getMessage(), e);
        }
    }

    private static Path mkdirs(Path dir) {
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A loopback port free right now, for {@link #ports} (e.g. to restart a broker on the same ports). */
    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new BrokerStartException("No free loopback port: " + e.getMessage(), e);
        }
    }
}
