/** The emulated storage account: which jars a job can download. */
export class JarStorage {
  private readonly jars = new Set<string>();

  add(jobJarDirectory: string, jarName: string): void {
    if (!jobJarDirectory || !jarName) throw new Error("addJar needs a jobJarDirectory and a jarName");
    this.jars.add(key(jobJarDirectory, jarName));
  }

  has(jobJarDirectory: string | undefined, jarName: string | undefined): boolean {
    return !!jobJarDirectory && !!jarName && this.jars.has(key(jobJarDirectory, jarName));
  }

  list(): string[] {
    return [...this.jars];
  }
}

function key(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, "")}/${name}`;
}
