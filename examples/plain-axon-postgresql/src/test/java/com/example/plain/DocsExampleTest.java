package com.example.plain;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docs/configuration.md ("Plain Axon on PostgreSQL") shows this project's application class as it is, and its pom
 * lists exactly the dependencies the doc shows for H2 with the PostgreSQL driver in H2's place.
 */
class DocsExampleTest {

    private static final Path DOC = Path.of("..", "..", "docs", "configuration.md");

    @Test
    void theDocShowsTheApplicationClass() throws Exception {
        assertThat(Files.readString(DOC)).contains(
                "```java\n" + Files.readString(Path.of("src/main/java/com/example/plain/ShopApplication.java"))
                        + "```");
    }

    @Test
    void theDependenciesAreTheDocsWithThePostgresqlDriver() throws Exception {
        String pom = Files.readString(Path.of("pom.xml"));
        String dependencies = pom.substring(pom.indexOf("    <dependencyManagement>"), pom.indexOf("    <build>"));
        String postgresql = """
                        <dependency>
                            <groupId>org.postgresql</groupId>
                            <artifactId>postgresql</artifactId>
                            <version>42.7.8</version>
                        </dependency>
                """;
        String h2 = """
                        <dependency>
                            <groupId>com.h2database</groupId>
                            <artifactId>h2</artifactId>
                            <version>2.3.232</version>
                        </dependency>
                """;
        assertThat(dependencies).contains(postgresql);
        assertThat(Files.readString(DOC)).contains("```xml\n" + dependencies.replace(postgresql, h2) + "```")
                                         .contains("`org.postgresql:postgresql`");
    }
}
