package io.github.pulsaroutbox.testbroker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A running standalone Pulsar broker in its own JVM, started by {@link PulsarBrokerLauncher}. Closing it stops the
 * process (SIGTERM, then SIGKILL after 20 s) and removes its data directory if the launcher created it.
 */
public final class PulsarBroker implements AutoCloseable {

    private final Process process;
    private final int brokerPort;
    private final int webPort;
    private final Path dataDirectory;
    private final Path logFile;
    private final boolean deleteDataDirectory;

    PulsarBroker(Process process, int brokerPort, int webPort, Path dataDirectory, Path logFile,
                 boolean deleteDataDirectory) {
        this.process = process;
        this.brokerPort = brokerPort;
        this.webPort = webPort;
        this.dataDirectory = dataDirectory;
        this.logFile = logFile;
        this.deleteDataDirectory = deleteDataDirectory;
    }

    /** The binary protocol URL, e.g. {@code pulsar://127.0.0.1:41234}. */
    public String serviceUrl() {
        return "pulsar://127.0.0.1:" + brokerPort;
    }

    /** The admin/web URL, e.g. {@code http://127.0.0.1:41235}. */
    public String webServiceUrl() {
        return "http://127.0.0.1:" + webPort;
    }

    public int brokerPort() {
        return brokerPort;
    }

    public int webPort() {
        return webPort;
    }

    public Path dataDirectory() {
        return dataDirectory;
    }

    /** The broker process, e.g. to kill it hard in a failure test. */
    public Process process() {
        return process;
    }

    public boolean isRunning() {
        return process.isAlive();
    }

    /** The last {@code lines} lines of the broker's log. */
    public String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        if (deleteDataDirectory) {
            deleteRecursively(dataDirectory);
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort: a temp directory
        }
    }
}
